"""PostgreSQL stopped and started again under a store in use: it reconnects by itself, and a queue
kept busy by threads through the restart still ends every task exactly once.

These tests restart their own throw-away cluster (skills/demo_database), never the session's."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from skills.config import Settings
from skills.demo import database as demo_database
from skills.errors import OrchestratorError
from skills.store import StoreError
from skills.store.postgres import PostgresStore
from tests.fixtures.postgres import _admin_execute, database_url


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory):
    settings = Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path_factory.mktemp("own-pg"))})
    try:
        demo_database.start(settings)
    except OrchestratorError as error:
        demo_database.stop(settings, purge=True)
        pytest.fail(f"could not start a PostgreSQL of the test's own: {error.message}")
    try:
        yield settings
    finally:
        demo_database.stop(settings, purge=True)


@pytest.fixture
def restartable_url(own_cluster) -> str:
    admin_url = demo_database.admin_url(own_cluster)
    name = "orchestrator_state_" + uuid.uuid4().hex[:8]
    _admin_execute(admin_url, f"CREATE DATABASE {name}")
    return database_url(admin_url, name)


def restart(settings: Settings) -> None:
    port = demo_database.status(settings)["port"]
    demo_database.stop(settings)
    started = demo_database.start(settings)
    assert started["port"] == port, "the restarted cluster moved to another port: the stored URL would be stale"


def test_the_store_reconnects_after_postgresql_restarts(own_cluster, restartable_url):
    store = PostgresStore(restartable_url)
    task_id = store.create_task("execute", {"task": "spans a restart"})
    assert store.claim_task("worker-a", 60).task_id == task_id
    store.insert_row(
        "executions",
        {"started_at": 1.0, "agent_id": "a", "query": "q", "mode": "direct", "success": 1, "duration_ms": 1.0},
    )
    store.wait_for_task(0)  # this thread now listens on a connection the restart will cut

    demo_database.stop(own_cluster)
    with pytest.raises(StoreError) as down:
        store.get_task(task_id)
    assert "unreachable" in str(down.value) and restartable_url.rsplit("/", 1)[1] in str(down.value)
    assert demo_database.admin_url(own_cluster).split("@")[0].split(":")[-1] not in str(down.value)  # no password
    assert not store.writable()
    demo_database.start(own_cluster)

    assert store.get_task(task_id)["status"] == "processing"
    assert store.finish_task(task_id, "worker-a", ok=True, http_status=200, result={}, error=None)
    assert (
        store.insert_row(
            "executions",
            {"started_at": 2.0, "agent_id": "b", "query": "q", "mode": "direct", "success": 1, "duration_ms": 1.0},
        )
        == 2
    )
    assert store.take_token("addr:x", 10) == 0.0 and store.writable()
    store.wait_for_task(0)  # the cut listener is replaced, not a crash
    woken = threading.Event()
    waiter = threading.Thread(target=lambda: (store.wait_for_task(30), woken.set()))
    waiter.start()
    time.sleep(0.2)  # let it block in LISTEN
    PostgresStore(restartable_url).create_task("execute", {"task": "after the restart"})
    waiter.join(20)
    assert woken.is_set()
    store.close()


def test_a_busy_queue_survives_a_restart_and_ends_every_task_once(own_cluster, restartable_url):
    store = PostgresStore(restartable_url)
    ends: dict[str, list] = {}
    lock = threading.Lock()
    stop = threading.Event()
    submitted: list[str] = []

    def retry(operation):
        while True:
            try:
                return operation()
            except StoreError:
                time.sleep(0.1)  # the database is restarting

    def producer():
        for n in range(60):
            submitted.append(retry(lambda n=n: store.create_task("execute", {"n": n})))
            time.sleep(0.02)

    def claimer(name: str):
        while not stop.is_set():
            task = retry(lambda: store.claim_task(name, 30))
            if task is None:
                retry(lambda: store.wait_for_task(0.2))
                continue
            if retry(
                lambda task=task: store.finish_task(task.task_id, name, ok=True, http_status=200, result={}, error=None)
            ):
                with lock:
                    ends.setdefault(task.task_id, []).append(name)

    threads = [threading.Thread(target=producer)] + [
        threading.Thread(target=claimer, args=(f"c{n}",)) for n in range(3)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.4)
    queued_before_restart = len(submitted)
    restart(own_cluster)
    threads[0].join(120)
    deadline = time.monotonic() + 60
    while len(ends) < len(submitted) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    for thread in threads[1:]:
        thread.join(30)

    assert 0 < queued_before_restart < 60, "the restart must fall in the middle of the run"
    assert len(submitted) == 60 and set(ends) == set(submitted)
    assert all(len(owners) == 1 for owners in ends.values())
    assert store.count_unfinished() == 0
    store.close()
