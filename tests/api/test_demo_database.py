"""bin/demo_database: a real PostgreSQL cluster started, reported, stopped and reloaded from the script."""

from __future__ import annotations

import json
import os
import pwd

import psycopg2
import pytest

from skills.config import Settings
from skills.demo import database as demo_database
from skills.errors import AgentNotConfigured


@pytest.fixture
def demo(script, state_dir):
    """Runs bin/demo_database in an isolated state dir; purges the cluster afterwards."""

    def run(*args: str):
        return script("demo_database", *args, timeout=120)

    yield run
    demo_database.stop(Settings({"ORCHESTRATOR_STATE_DIR": state_dir}), purge=True)


def read_url(state_dir: str) -> str:
    settings = Settings({"ORCHESTRATOR_STATE_DIR": state_dir})
    return settings.effective_database_url()


def count(url: str, statement: str) -> int:
    with psycopg2.connect(url, connect_timeout=5) as connection, connection.cursor() as cursor:
        cursor.execute(statement)
        value = cursor.fetchone()[0]
    connection.close()
    return value


def test_start_status_stop_and_restart_through_the_script(demo, state_dir):
    started = demo("start")
    assert started.returncode == 0, started.stdout + started.stderr
    body = started.json
    assert body["running"] is True and body["action"] == "created"
    assert body["rows"]["contractors"] > 20 and body["rows"]["sites"] > 200 and body["rows"]["boq_items"] > 200

    url = read_url(state_dir)
    assert url and count(url, "SELECT count(*) FROM contractors") == body["rows"]["contractors"]
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in started.stdout and ":***@" in body["url"]

    again = demo("start")
    assert again.returncode == 0 and again.json["action"] == "already_running"
    assert again.json["port"] == body["port"]

    status = demo("status")
    assert status.returncode == 0 and status.json["running"] is True and password not in status.stdout

    stopped = demo("stop")
    assert stopped.returncode == 0 and stopped.json["action"] == "stopped"
    assert read_url(state_dir) is None  # nothing points at a stopped database
    assert demo("status").json["running"] is False

    restarted = demo("start")
    assert restarted.returncode == 0 and restarted.json["action"] == "started"
    assert count(read_url(state_dir), "SELECT count(*) FROM projects") == body["rows"]["projects"]


def test_two_starts_at_once_make_one_cluster(demo, script_env, state_dir):
    import subprocess
    import sys

    from tests.fixtures.scripts import BIN

    command = [sys.executable, os.path.join(BIN, "demo_database"), "start"]
    runs = [subprocess.Popen(command, env=script_env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    actions = sorted(json.loads(run.communicate(timeout=120)[0])["action"] for run in runs)
    assert actions == ["already_running", "created"]
    assert all(run.returncode == 0 for run in runs)


def test_an_interrupted_start_is_rebuilt_on_the_next_start(demo, state_dir):
    assert demo("start").returncode == 0
    os.unlink(Settings({"ORCHESTRATOR_STATE_DIR": state_dir}).demo_database_url_file)  # as if killed while loading
    again = demo("start")
    assert again.returncode == 0 and again.json["action"] == "created"
    assert count(read_url(state_dir), "SELECT count(*) FROM contractors") == again.json["rows"]["contractors"]


def test_the_agents_role_cannot_write_even_outside_a_read_only_transaction(demo, state_dir):
    assert demo("start").returncode == 0
    connection = psycopg2.connect(read_url(state_dir))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")  # a session may lift its default...
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("DELETE FROM rfqs")  # ...but the role has no write privilege to use
    finally:
        connection.close()


def test_load_restores_the_demo_data(demo, state_dir):
    assert demo("start").returncode == 0
    admin = demo_database.admin_url(Settings({"ORCHESTRATOR_STATE_DIR": state_dir}))
    expected = count(admin, "SELECT count(*) FROM rfqs")
    with psycopg2.connect(admin) as connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM purchase_orders; DELETE FROM rfqs")
    connection.close()
    assert count(admin, "SELECT count(*) FROM rfqs") == 0
    loaded = demo("load")
    assert loaded.returncode == 0 and loaded.json["action"] == "loaded"
    assert count(read_url(state_dir), "SELECT count(*) FROM rfqs") == expected


def test_load_without_a_running_database_says_to_start_it(demo):
    result = demo("load")
    assert result.returncode == 2
    assert result.json["code"] == "agent_not_configured" and "bin/demo_database start" in result.json["error"]


def test_status_before_start_reports_not_running(demo):
    result = demo("status")
    assert result.returncode == 0 and result.json["running"] is False and "start" in result.json["message"]


def test_the_server_runs_as_an_unprivileged_user_when_we_are_root(pg_target, demo, state_dir):
    assert demo("start").returncode == 0
    status = demo_database.status(Settings({"ORCHESTRATOR_STATE_DIR": state_dir}))
    owner = pwd.getpwuid(os.stat(status["data_dir"]).st_uid).pw_name
    if os.geteuid() == 0:
        assert status["run_as"] in ("postgres", "nobody") and owner == status["run_as"]
    else:
        assert status["run_as"] is None and owner == pwd.getpwuid(os.geteuid()).pw_name


def test_missing_postgresql_programs_say_how_to_install_them(monkeypatch):
    monkeypatch.setattr(demo_database.shutil, "which", lambda name: None)
    monkeypatch.setattr(demo_database.glob, "glob", lambda pattern: [])
    with pytest.raises(AgentNotConfigured) as missing:
        demo_database.find_bin_dir()
    assert "apt-get install postgresql" in missing.value.message


def test_demo_data_is_deterministic_for_a_day():
    from datetime import date

    from skills.demo.data import generate

    assert generate(date(2026, 3, 1)) == generate(date(2026, 3, 1))


def test_bad_subcommand_exits_2(demo):
    result = demo("explode")
    assert result.returncode == 2
