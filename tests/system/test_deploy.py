"""The files in deploy/ are valid for the tools that read them: nginx, systemd and Docker Compose.

nginx and systemd-analyze check the files themselves (bin/setup --test installs both); the compose
file is read as YAML and checked against the other deploy files it relies on, since no Docker
engine runs here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.fixtures.cluster import find_nginx, nginx_main_conf
from tests.fixtures.scripts import ROOT

DEPLOY = os.path.join(ROOT, "deploy")
INSTALLED_ROOT = "/opt/fibreflow-orchestrator"  # where the units expect the checkout


def _read(name: str) -> str:
    with open(os.path.join(DEPLOY, name), encoding="utf-8") as handle:
        return handle.read()


def test_nginx_accepts_the_site_as_shipped(tmp_path):
    main = tmp_path / "nginx-main.conf"
    main.write_text(nginx_main_conf(str(tmp_path), os.path.join(DEPLOY, "nginx.conf")))
    done = subprocess.run(
        [find_nginx(), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, f"nginx -t refused deploy/nginx.conf: {done.stderr}"


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if not found:
        pytest.fail("systemd-analyze is missing: run bin/setup --test (it installs the systemd package)")
    return found


@pytest.mark.parametrize(
    ("unit", "instance", "script"),
    [
        ("orchestrator@.service", "8001", "orchestrator_server"),
        ("orchestrator-worker@.service", "1", "orchestrator_worker"),
    ],
)
def test_systemd_accepts_each_template_unit_and_it_runs_a_real_script(tmp_path, unit, instance, script):
    text = _read(unit)
    exec_start = re.search(r"^ExecStart=(\S+) (\S+)", text, re.MULTILINE)
    assert exec_start, f"{unit} has no ExecStart"
    assert exec_start.group(2) == f"{INSTALLED_ROOT}/bin/{script}"
    assert os.access(os.path.join(ROOT, "bin", script), os.X_OK), f"{unit} runs bin/{script}, which does not exist"
    # systemd checks that the interpreter exists: point the unit at this checkout instead of /opt
    python = os.path.join(ROOT, ".venv", "bin", "python")
    local = text.replace(f"{INSTALLED_ROOT}/.venv/bin/python", python).replace(INSTALLED_ROOT, ROOT)
    (tmp_path / unit).write_text(local)
    instantiated = str(tmp_path / unit.replace("@.", f"@{instance}."))
    done = subprocess.run(
        [_systemd_analyze(), "verify", instantiated], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"systemd-analyze verify {unit}: {done.stderr}"
    assert "%i" in text, f"{unit} does not use its instance"


def _compose() -> dict:
    return yaml.safe_load(_read("compose.yaml"))


def test_compose_runs_postgres_three_replicas_two_workers_and_nginx():
    services = _compose()["services"]
    replicas = [name for name, service in services.items() if "bin/orchestrator_server" in service.get("command", [])]
    workers = [service for service in services.values() if "bin/orchestrator_worker" in service.get("command", [])]
    assert len(replicas) == 3
    assert sum(service.get("deploy", {}).get("replicas", 1) for service in workers) == 2
    assert {"postgres", "nginx"} <= set(services)
    for name in replicas:
        environment = services[name]["environment"]
        assert environment["ORCHESTRATOR_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in environment["ORCHESTRATOR_DATABASE_URL"]


def test_compose_nginx_points_the_shipped_site_at_the_compose_replicas(tmp_path):
    compose = _compose()
    nginx = compose["services"]["nginx"]
    script = nginx["command"][-1]
    # run the container's own rewrite on the shipped site, here instead of in the nginx image
    local = script.split(" && ")[0].replace("/deploy/nginx.conf", os.path.join(DEPLOY, "nginx.conf"))
    local = local.replace("/etc/nginx/conf.d/default.conf", str(tmp_path / "site.conf"))
    subprocess.run(["sh", "-c", local], check=True, timeout=30)
    site = (tmp_path / "site.conf").read_text()
    upstream = re.findall(r"^\s*server (\S+?):(\d+)", site, re.MULTILINE)
    replicas = {
        name for name, service in compose["services"].items() if "bin/orchestrator_server" in service.get("command", [])
    }
    assert {host for host, _ in upstream} == replicas
    assert {port for _, port in upstream} == {"8001"}
    assert "[::]" not in site
    # the replicas believe X-Forwarded-For from nginx's fixed address only
    address = nginx["networks"]["orchestrator"]["ipv4_address"]
    for name in replicas:
        assert compose["services"][name]["environment"]["ORCHESTRATOR_TRUSTED_PROXIES"] == address
