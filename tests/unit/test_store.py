"""The store's async-task queue on both backends (SQLite file, real PostgreSQL): claims, leases,
takeovers, the exactly-once end, and claimers in several threads and processes never sharing a task.

Ledger, migrations, rate limit and PostgreSQL restarts: tests/unit/test_store_ledger.py and friends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from skills.store.base import MAX_ATTEMPTS, REASON_ATTEMPTS, REASON_WRITES, ClaimedTask
from skills.store.postgres import PostgresStore
from skills.store.sqlite import SQLiteStore
from tests.fixtures.scripts import ROOT

SHORT_LEASE_S = 0.3  # long enough to claim under, short enough to watch expire


@pytest.fixture(params=["sqlite", "postgres"])
def backend_place(request, tmp_path) -> str:
    """Where a store lives: a state directory (SQLite) or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "state")
    return request.getfixturevalue("state_db_url")


def open_place(place: str):
    return PostgresStore(place) if "://" in place else SQLiteStore(place)


@pytest.fixture
def store(backend_place):
    opened = open_place(backend_place)
    yield opened
    opened.close()


def finish(store, task: ClaimedTask, owner: str, **answer) -> bool:
    return store.finish_task(task.task_id, owner, ok=True, http_status=200, result=answer or {"ok": 1}, error=None)


def wait_out(lease_s: float = SHORT_LEASE_S) -> None:
    time.sleep(lease_s + 0.2)  # the lease's own length, not a speed expectation


def test_a_task_is_queued_claimed_and_finished_once(store):
    task_id = store.create_task("execute", {"agent": "vps-monitor", "query": "uptime"})
    assert store.get_task(task_id)["status"] == "processing" and store.count_unfinished() == 1

    task = store.claim_task("worker-a", 30)
    assert task == ClaimedTask(task_id, "execute", {"agent": "vps-monitor", "query": "uptime"}, 1, False)
    assert store.get_task(task_id)["status"] == "processing"
    assert store.claim_task("worker-b", 30) is None

    assert finish(store, task, "worker-a", response="up 3 days")
    shown = store.get_task(task_id)
    assert shown["status"] == "completed" and shown["result"] == {"response": "up 3 days"}
    assert shown["http_status"] == 200 and shown["attempts"] == 1 and shown["finished_at"]
    assert shown["created_at"].endswith("Z") and store.count_unfinished() == 0
    assert store.claim_task("worker-a", 30) is None


def test_tasks_are_claimed_oldest_first(store):
    ids = [store.create_task("smart-execute", {"task": f"task {n}"}) for n in range(5)]
    claimed = [store.claim_task("worker", 30).task_id for _ in ids]
    assert claimed == ids


def test_only_the_lease_holder_can_finish_and_only_once(store):
    store.create_task("execute", {"task": "x"})
    task = store.claim_task("worker-a", 30)
    assert not finish(store, task, "worker-b")
    assert store.get_task(task.task_id)["status"] == "processing"
    assert store.finish_task(task.task_id, "worker-a", ok=False, http_status=502, result={"code": "x"}, error="boom")
    assert not finish(store, task, "worker-a")  # a different end of a finished task
    assert store.finish_task(task.task_id, "worker-a", ok=False, http_status=502, result={"code": "x"}, error="boom")
    assert not store.finish_task(
        task.task_id, "worker-b", ok=False, http_status=502, result={"code": "x"}, error="boom"
    )
    shown = store.get_task(task.task_id)
    assert shown["status"] == "failed" and shown["error"] == "boom" and shown["http_status"] == 502


def test_an_expired_lease_is_taken_over_and_the_old_holder_loses_it(store):
    task_id = store.create_task("execute", {"task": "slow"})
    first = store.claim_task("worker-a", SHORT_LEASE_S)
    assert store.claim_task("worker-b", 30) is None  # still leased
    wait_out()

    second = store.claim_task("worker-b", 30)
    assert second.task_id == task_id and second.attempts == 2
    assert not store.renew_lease(task_id, "worker-a", 30)
    assert not finish(store, first, "worker-a")
    assert finish(store, second, "worker-b")
    assert store.get_task(task_id)["attempts"] == 2


def test_a_renewed_lease_is_not_taken_over(store):
    store.create_task("execute", {"task": "long"})
    task = store.claim_task("worker-a", SHORT_LEASE_S)
    for _ in range(3):
        time.sleep(SHORT_LEASE_S / 3)
        assert store.renew_lease(task.task_id, "worker-a", SHORT_LEASE_S)
    assert store.claim_task("worker-b", 30) is None
    assert finish(store, task, "worker-a")


def test_a_writing_task_whose_lease_expires_ends_interrupted(store):
    task_id = store.create_task("execute", {"agent": "convex-database", "query": "close task 7"})
    task = store.claim_task("worker-a", SHORT_LEASE_S)
    store.mark_task_writes(task_id, "worker-a")
    wait_out()

    assert store.claim_task("worker-b", 30) is None
    shown = store.get_task(task_id)
    assert shown["status"] == "failed" and shown["result"]["code"] == "interrupted"
    assert shown["error"] == REASON_WRITES and shown["http_status"] == 500
    assert not finish(store, task, "worker-a")  # the old holder cannot overwrite the verdict


def test_a_task_queued_as_writing_is_never_re_run(store):
    task_id = store.create_task("execute", {"query": "update"}, writes=True)
    assert store.claim_task("worker-a", SHORT_LEASE_S).writes is True
    wait_out()
    assert store.claim_task("worker-b", 30) is None
    assert store.get_task(task_id)["result"]["code"] == "interrupted"


def test_a_task_whose_lease_is_lost_max_attempts_times_ends_interrupted(store):
    task_id = store.create_task("smart-execute", {"task": "crashes its workers"})
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert store.claim_task(f"worker-{attempt}", SHORT_LEASE_S).attempts == attempt
        wait_out()
    assert store.claim_task("worker-last", 30) is None
    shown = store.get_task(task_id)
    assert shown["status"] == "failed" and shown["error"] == REASON_ATTEMPTS
    assert "server stopped while this task was running" in shown["result"]["error"]
    assert store.count_unfinished() == 0


def test_a_released_task_goes_back_to_the_queue_without_using_an_attempt(store):
    task_id = store.create_task("execute", {"task": "x"})
    store.release_task(store.claim_task("worker-a", 30).task_id, "worker-a")
    again = store.claim_task("worker-b", 30)
    assert again.task_id == task_id and again.attempts == 1
    store.release_task(task_id, "worker-a")  # not the holder any more: nothing happens
    assert store.claim_task("worker-c", 30) is None


def test_prune_deletes_only_finished_tasks(store):
    done = store.create_task("execute", {"task": "done"})
    waiting = store.create_task("execute", {"task": "waiting"})
    finish(store, store.claim_task("worker", 30), "worker")
    assert store.prune_tasks(0) == 1
    assert store.get_task(done) is None and store.get_task(waiting)["status"] == "processing"


def test_a_waiting_claimer_wakes_when_a_task_is_queued(backend_place):
    waiter, creator = open_place(backend_place), open_place(backend_place)
    store_ready = threading.Event()
    claimed: list = []

    def claim_loop():
        waiter.wait_for_task(0)  # starts listening (PostgreSQL) before the task can be queued
        store_ready.set()
        deadline = time.monotonic() + 60
        while not claimed and time.monotonic() < deadline:
            waiter.wait_for_task(30)
            task = waiter.claim_task("idle-worker", 30)
            if task:
                claimed.append(task.task_id)

    thread = threading.Thread(target=claim_loop)
    thread.start()
    store_ready.wait(10)
    task_id = creator.create_task("execute", {"task": "wake up"})
    thread.join(20)  # far below the 30 s wait: only a wake-up, not the timeout, can end it this soon
    assert claimed == [task_id]
    waiter.close()
    creator.close()


def test_an_idle_sqlite_claimer_notices_an_expired_lease_though_nothing_was_written(tmp_path):
    """The SQLite wait skips its query while the files are unchanged; a lease runs out without
    any write, so the wait must still look now and then."""
    holder, idle = SQLiteStore(str(tmp_path)), SQLiteStore(str(tmp_path))
    task_id = holder.create_task("execute", {"task": "held by a worker that then died"})
    assert holder.claim_task("dead-worker", SHORT_LEASE_S).task_id == task_id
    idle.wait_for_task(0)  # sees the claim: nothing claimable now

    started = time.monotonic()
    idle.wait_for_task(30)
    assert time.monotonic() - started < 20  # woke for the expired lease, not at the end of its wait
    taken = idle.claim_task("live-worker", 30)
    assert taken.task_id == task_id and taken.attempts == 2


def test_claimers_in_many_threads_never_share_a_task(store):
    ids = {store.create_task("execute", {"task": f"t{n}"}) for n in range(120)}
    claimed: dict[str, list] = {}
    lock = threading.Lock()

    def claimer(name: str):
        while (task := store.claim_task(name, 30)) is not None:
            with lock:
                claimed.setdefault(task.task_id, []).append(name)
            assert finish(store, task, name)

    threads = [threading.Thread(target=claimer, args=(f"thread-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert set(claimed) == ids
    assert all(len(owners) == 1 for owners in claimed.values())
    assert store.count_unfinished() == 0


def start_children(action: str, place: str, go_file: str, count: int, *args: str) -> list[subprocess.Popen]:
    """`count` processes that act together once `go_file` exists (tests/fixtures/store_child.py)."""
    command = [sys.executable, "-m", "tests.fixtures.store_child", action, place, go_file, *args]
    return [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]


def results_of(children: list[subprocess.Popen], go_file: str) -> list[dict]:
    """Once every child says it is ready, create `go_file`; then each child's JSON result."""
    for child in children:
        if child.stdout.readline().strip() != "ready":  # started and ready to act, or it failed
            child.wait(timeout=120)
            pytest.fail(f"a store child never got ready: {child.stderr.read()}")
    open(go_file, "w").close()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_claimers_in_many_processes_never_share_a_task(store, backend_place, tmp_path):
    ids = {store.create_task("execute", {"task": f"t{n}"}) for n in range(150)}
    go_file = str(tmp_path / "go")
    results = results_of(start_children("claim", backend_place, go_file, 4), go_file)

    claimed = [task_id for result in results for task_id in result["claimed"]]
    assert sorted(claimed) == sorted(ids)  # every task once: none twice, none lost
    assert sum(1 for result in results if result["claimed"]) >= 2  # they really did compete
    assert all(store.get_task(task_id)["status"] == "completed" for task_id in ids)


def test_claim_survives_a_forked_child_using_the_same_store(store):
    store.create_task("execute", {"task": "before fork"})
    parent_task = store.claim_task("parent", 30)
    pid = os.fork()
    if pid == 0:  # the child opens its own connections; the parent's stay untouched
        code = 0 if store.count_unfinished() == 1 else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert finish(store, parent_task, "parent")  # the parent's connection still works


def test_describe_says_where_without_secrets(store, backend_place):
    where = store.describe()
    if store.backend == "postgres":
        password = backend_place.split("://", 1)[1].split("@")[0].split(":")[1]
        assert where.startswith("postgresql://127.0.0.1:") and password not in where and "@" not in where
    else:
        assert where == os.path.join(backend_place, "ledger.sqlite3")
    assert store.writable()
