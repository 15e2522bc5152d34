"""PostgreSQL, an SSH host and Convex failing under the running server, for real: each failure
is a clear JSON error with the right code (exit 3 from the script for an upstream failure),
the server stays up, and the next request succeeds once the dependency is back, with no restart.

PostgreSQL is a private demo cluster, stopped and started for real (also in the middle of a
query). The SSH host and Convex sit behind a TCP forwarder that can close its port or go
silent (tests/fixtures/tcp_proxy.py); the host key is changed by rewriting known_hosts.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
import yaml

from skills.config import Settings
from skills.demo import database as demo_database
from tests.fixtures.http_server import start_server
from tests.fixtures.sshd import make_key
from tests.fixtures.tcp_proxy import TcpProxy

# --- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_pg(tmp_path_factory):
    settings = Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path_factory.mktemp("pg-restart"))})
    try:
        demo_database.start(settings)
        yield settings
    finally:
        demo_database.stop(settings, purge=True)


@pytest.fixture(scope="module")
def pg_server(private_pg, tmp_path_factory):
    running = start_server(
        str(tmp_path_factory.mktemp("pg-restart-server")), DATABASE_URL=private_pg.effective_database_url()
    )
    yield running
    running.stop()


def count_contractors(server) -> requests.Response:
    body = {"agent": "contractor-agent", "query": "How many active subcontractors do we have?"}
    return requests.post(server.url + "/orchestrator/execute", json=body, timeout=60)


def restart_pg(settings) -> None:
    port = demo_database.status(settings).get("port")
    demo_database.start(settings)
    assert demo_database.status(settings).get("port") == port, "the cluster came back on another port"


def test_postgres_stopped_between_requests_is_upstream_unavailable_then_recovers(pg_server, private_pg, script):
    assert count_contractors(pg_server).status_code == 200
    url = private_pg.effective_database_url()
    demo_database.stop(private_pg)
    try:
        down = count_contractors(pg_server)
        run = script(
            "execute_agent",
            "--agent",
            "contractor-agent",
            "--query",
            "active subcontractors",
            env={"DATABASE_URL": url},
        )
    finally:
        restart_pg(private_pg)
    assert down.status_code == 502 and down.json()["code"] == "upstream_unavailable"
    assert "PostgreSQL" in down.json()["error"] and "password" not in down.text
    assert run.returncode == 3 and run.json["code"] == "upstream_unavailable"
    assert requests.get(pg_server.url + "/health", timeout=10).status_code == 200
    back = count_contractors(pg_server)
    assert back.status_code == 200 and back.json()["success"] is True


def test_postgres_stopped_in_the_middle_of_a_query_is_upstream_unavailable_then_recovers(pg_server, private_pg):
    slow = {"agent": "neon-database", "query": "run `SELECT pg_sleep(4), 1 AS done`"}
    outcome = {}

    def ask():
        outcome["reply"] = requests.post(pg_server.url + "/orchestrator/execute", json=slow, timeout=60)

    thread = threading.Thread(target=ask)
    thread.start()
    time.sleep(1.5)  # the statement is running now
    demo_database.stop(private_pg)  # fast shutdown: PostgreSQL ends the session mid-statement
    thread.join(timeout=60)
    restart_pg(private_pg)
    cut = outcome["reply"]
    assert cut.status_code == 502 and cut.json()["code"] == "upstream_unavailable", cut.text
    back = count_contractors(pg_server)
    assert back.status_code == 200 and back.json()["success"] is True


# --- SSH --------------------------------------------------------------------------------


@pytest.fixture
def ssh_via_proxy(sshd_server, tmp_path):
    proxy = TcpProxy(sshd_server.port).start()
    (tmp_path / "state").mkdir(exist_ok=True)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{proxy.port} {sshd_server.host_public_key}\n")
    servers = tmp_path / "servers.yaml"
    entry = {"host": "127.0.0.1", "port": proxy.port, "user": sshd_server.user, "key_file": sshd_server.key_file}
    servers.write_text(yaml.safe_dump({"servers": {"localhost": {"local": True}, "branch": entry}}))
    server = start_server(
        str(tmp_path / "state"),
        ORCHESTRATOR_SERVERS=str(servers),
        ORCHESTRATOR_SSH_KNOWN_HOSTS=str(known),
        ORCHESTRATOR_SSH_TIMEOUT="2",
    )
    yield server, proxy, known
    server.stop()
    proxy.stop()


def uptime_of_branch(server) -> requests.Response:
    body = {"agent": "vps-monitor", "query": "uptime of branch"}
    return requests.post(server.url + "/orchestrator/execute", json=body, timeout=60)


def test_an_ssh_host_down_slow_or_with_a_changed_key_is_a_clear_error_and_recovers(ssh_via_proxy, tmp_path):
    server, proxy, known = ssh_via_proxy
    assert uptime_of_branch(server).status_code == 200
    genuine = known.read_text()

    proxy.switch("down")
    down = uptime_of_branch(server)
    proxy.switch("silent")
    slow = uptime_of_branch(server)
    proxy.switch("up")
    impostor = make_key(str(tmp_path / "impostor"))
    known.write_text(f"[127.0.0.1]:{proxy.port} {impostor}\n")
    changed = uptime_of_branch(server)
    known.write_text(genuine)
    back = uptime_of_branch(server)

    assert down.status_code == 502 and down.json()["code"] == "upstream_unavailable"
    assert "cannot reach server 'branch'" in down.json()["error"]
    assert slow.status_code == 504 and slow.json()["code"] == "timeout"
    assert changed.status_code == 403 and changed.json()["code"] == "tool_refused"
    assert "CHANGED" in changed.json()["error"]
    assert back.status_code == 200 and back.json()["success"] is True


# --- Convex -----------------------------------------------------------------------------


@pytest.fixture
def convex_via_proxy(fake_convex, tmp_path):
    port = int(fake_convex.env()["CONVEX_URL"].rsplit(":", 1)[1])
    proxy = TcpProxy(port).start()
    (tmp_path / "server-state").mkdir()
    env = {**fake_convex.env(), "CONVEX_URL": f"http://127.0.0.1:{proxy.port}"}
    server = start_server(str(tmp_path / "server-state"), **env)
    yield server, proxy, fake_convex
    server.stop()
    proxy.stop()


def task_stats(server) -> requests.Response:
    body = {"agent": "convex-database", "query": "task statistics"}
    return requests.post(server.url + "/orchestrator/execute", json=body, timeout=60)


def test_convex_down_or_erroring_is_upstream_unavailable_and_recovers(convex_via_proxy, script):
    server, proxy, fake = convex_via_proxy
    assert task_stats(server).status_code == 200

    proxy.switch("down")
    down = task_stats(server)
    run = script(
        "execute_agent",
        "--agent",
        "convex-database",
        "--query",
        "task statistics",
        env={**fake.env(), "CONVEX_URL": f"http://127.0.0.1:{proxy.port}"},
    )
    proxy.switch("up")
    fake.http_error_next(503, {"code": "ServiceUnavailable", "message": "deployment is paused"})
    erroring = task_stats(server)
    back = task_stats(server)

    assert down.status_code == 502 and down.json()["code"] == "upstream_unavailable"
    assert run.returncode == 3 and run.json["code"] == "upstream_unavailable"
    assert erroring.status_code == 502 and "deployment is paused" in erroring.json()["error"]
    assert back.status_code == 200 and back.json()["success"] is True
