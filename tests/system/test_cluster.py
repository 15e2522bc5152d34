"""Several replicas and workers sharing one PostgreSQL behind nginx (issue 9), all real processes.

Three `bin/orchestrator_server` replicas, two `bin/orchestrator_worker` processes and nginx running
deploy/nginx.conf (tests/fixtures/cluster.py); each task is an execute of vps-monitor whose one model
call the Messages API double answers in 200 ms, so tasks are still running when a process dies.
Deadlines are generous and only bound the waiting: nothing here asserts how long anything took.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

from skills.config import Settings
from tests.fixtures.cluster import Cluster, ClusterError, OwnPostgres, request, start_cluster
from tests.fixtures.fake_anthropic import delayed, reply_text

MODEL_DELAY_S = 0.2
# a killed process's tasks move on after this: shorter than the default 15 s to keep the test short, long
# enough that a heartbeat delayed by a busy machine does not lose a live lease
LEASE_S = "5"
FINISH_DEADLINE_S = 300.0
FINISHED = ("completed", "failed")


@pytest.fixture
def slow_model(fake_anthropic):
    """Every model call takes 200 ms and ends the agent's turn with a short answer."""
    fake_anthropic.answer_all(delayed(MODEL_DELAY_S, reply_text("CPU usage is 12%.")))
    return fake_anthropic


@pytest.fixture
def clusters(tmp_path):
    """start(database_url, **options) -> a running Cluster; all of them stopped at the end."""
    started: list[Cluster] = []

    def start(database_url: str, **options) -> Cluster:
        try:
            cluster = start_cluster(str(tmp_path / f"cluster-{len(started) + 1}"), database_url, **options)
        except ClusterError as error:
            pytest.fail(f"the test cluster did not start: {error}")
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


def _task_env(fake, **extra) -> dict:
    return {**fake.env(), "ORCHESTRATOR_TASK_LEASE": LEASE_S, **extra}


def submit(url: str, number: int, deadline: float) -> str:
    """POST one async task through nginx until it is accepted; its task id.

    A 502 or a dropped connection (the replica died with the request in hand) is sent again: the
    first may or may not have been queued, and either way the database check at the end covers it."""
    body = {"agent": "vps-monitor", "query": f"Check CPU usage on the server (task {number})"}
    last = None
    while time.monotonic() < deadline:
        try:
            status, answer = request(url + "/orchestrator/execute-async", "POST", body, timeout=30)
        except (OSError, http.client.HTTPException) as error:
            status, last = None, f"connection failed: {type(error).__name__}: {error}"
        else:
            if status == 202:
                return answer["task_id"]
            last = f"{status} {answer}"
        if status not in (None, 502, 503, 504):
            break
        time.sleep(0.1)
    raise AssertionError(f"task {number} was never accepted through nginx; last answer: {last}")


def submit_all(url: str, count: int, clients: int = 8, on_submitted=None) -> list[str]:
    deadline = time.monotonic() + FINISH_DEADLINE_S
    done = []
    lock = threading.Lock()

    def one(number: int) -> str:
        task_id = submit(url, number, deadline)
        with lock:
            done.append(task_id)
            if on_submitted:
                on_submitted(len(done))
        return task_id

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(count)))


def db_rows(database_url: str, sql: str, args=()) -> list[tuple]:
    connection = psycopg2.connect(database_url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall()
    finally:
        connection.close()


def wait_until_finished(database_url: str, cluster: Cluster, expected: int | None = None) -> dict[str, str]:
    """Poll the shared table until no task is queued or running; {task id: status}."""
    deadline = time.monotonic() + FINISH_DEADLINE_S
    while True:
        rows = dict(db_rows(database_url, "SELECT id, status FROM http_tasks"))
        unfinished = [task_id for task_id, status in rows.items() if status not in FINISHED]
        if not unfinished and (expected is None or len(rows) >= expected):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(unfinished)} of {len(rows)} tasks still unfinished after {FINISH_DEADLINE_S:.0f} s "
                f"(e.g. {unfinished[:3]}); processes: {cluster.describe()}"
            )
        time.sleep(0.5)


def wait_for_completed(database_url: str, count: int) -> None:
    deadline = time.monotonic() + FINISH_DEADLINE_S
    while db_rows(database_url, "SELECT count(*) FROM http_tasks WHERE status = 'completed'")[0][0] < count:
        assert time.monotonic() < deadline, f"fewer than {count} tasks completed within {FINISH_DEADLINE_S:.0f} s"
        time.sleep(0.2)


def ledger_rows(database_url: str, state_dir: str) -> list[dict]:
    from skills.ledger.records import executions

    return executions(Settings({"ORCHESTRATOR_DATABASE_URL": database_url, "ORCHESTRATOR_STATE_DIR": state_dir}))


def wait_for_stable(read, what: str):
    """`read()` once it gives the same answer twice a second apart (runs left behind by a killed
    replica may still be booking their rows)."""
    deadline = time.monotonic() + 60
    previous = read()
    while True:
        time.sleep(1.0)
        current = read()
        if current == previous:
            return current
        assert time.monotonic() < deadline, f"{what} kept changing for 60 s: {previous} -> {current}"
        previous = current


def test_every_task_ends_exactly_once_when_a_replica_and_a_worker_are_killed(
    state_db_url, slow_model, clusters, tmp_path
):
    cluster = clusters(state_db_url, replicas=3, workers=2, env=_task_env(slow_model))
    victims = [cluster.replicas[1], cluster.workers[0]]
    killed = threading.Event()

    def kill_midway(submitted: int) -> None:
        if submitted >= 150 and not killed.is_set():
            killed.set()
            for member in victims:
                cluster.kill(member)

    task_ids = submit_all(cluster.url, 300, on_submitted=kill_midway)
    assert killed.is_set() and not any(member.alive() for member in victims)
    assert len(set(task_ids)) == 300

    statuses = wait_until_finished(state_db_url, cluster, expected=300)
    # none lost: every accepted task is in the table (plus any a dying replica queued before its 502)
    assert set(task_ids) <= set(statuses)
    survivors = cluster.live_replicas()
    assert len(survivors) == 2, cluster.describe()
    bodies = {}
    for task_id in task_ids:
        views = [request(f"{replica.url}/orchestrator/tasks/{task_id}") for replica in survivors]
        assert all(status == 200 for status, _ in views), f"task {task_id} not pollable from every replica: {views}"
        assert views[0][1] == views[1][1], f"replicas disagree about task {task_id}: {views}"
        bodies[task_id] = views[0][1]
    for task_id, body in bodies.items():
        assert body["status"] in FINISHED, body
        if body["status"] == "failed":
            assert body.get("error") and body["result"].get("code"), f"task {task_id} failed without a reason: {body}"
        else:
            assert body["result"]["success"] is True and body["result"]["agent"] == "vps-monitor", body
    # the kill landed on running tasks: another claimer took them over once their leases expired
    taken_over = [body for body in bodies.values() if body["attempts"] > 1]
    assert taken_over, "no task needed a second attempt: the killed processes held no running task"
    completed = sum(1 for body in bodies.values() if body["status"] == "completed")
    # one ledger row per run: every model reply delivered was one run, and each booked exactly one row
    rows = wait_for_stable(lambda: len(ledger_rows(state_db_url, str(tmp_path / "reader"))), "the ledger")
    delivered = len(slow_model.delivered)
    assert rows == delivered, f"{rows} ledger rows for {delivered} runs (model replies delivered)"
    assert rows >= completed
    for replica in survivors:  # every replica reads the same ledger
        status, stats = request(replica.url + "/orchestrator/stats")
        assert status == 200 and stats["summary"]["total_executions"] == rows, (replica.name, stats.get("summary"))


def test_the_rate_limit_holds_across_replicas(state_db_url, clusters):
    limit = 30
    cluster = clusters(state_db_url, replicas=3, workers=0, env={"ORCHESTRATOR_RATE_LIMIT": str(limit)})
    started = time.monotonic()
    answers = [request(cluster.url + "/orchestrator/agents")[0] for _ in range(3 * limit)]
    elapsed = time.monotonic() - started
    accepted = answers.count(200)
    assert set(answers) <= {200, 429}, answers
    # one bucket for the three replicas: a full bucket (less what the start-up /health probes through
    # nginx spent), plus only what refilled while the test ran; three buckets would accept ~3x the limit
    refill = limit / 60.0 * elapsed
    assert limit // 2 <= accepted <= limit + refill + 1, (
        f"{accepted} accepted in {elapsed:.1f}s with a limit of {limit}"
    )
    # and a replica that served none of them directly still sees the same empty bucket
    assert request(cluster.replicas[2].url + "/orchestrator/agents")[0] == 429


def test_tasks_finish_when_postgresql_restarts_mid_run(slow_model, clusters, tmp_path):
    postgres = OwnPostgres(str(tmp_path / "own-postgres"))
    admin_url = postgres.start()
    try:
        db_rows(admin_url, "SELECT 1")  # warm: the first connection after start can be slow
        connection = psycopg2.connect(admin_url, connect_timeout=10)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute('CREATE DATABASE "orchestrator_state"')
        connection.close()
        url = admin_url.rsplit("/", 1)[0] + "/orchestrator_state"
        cluster = clusters(url, replicas=2, workers=1, env=_task_env(slow_model))
        before = submit_all(cluster.url, 60)
        wait_for_completed(url, 10)
        unfinished = db_rows(url, "SELECT count(*) FROM http_tasks WHERE status IN ('queued', 'running')")[0][0]
        assert unfinished, "every task finished before the restart: the test exercised nothing"
        postgres.stop()
        postgres.start()
        after = submit_all(cluster.url, 20)  # accepted once the replicas have reconnected
        statuses = wait_until_finished(url, cluster, expected=80)
        assert all(member.alive() for member in [*cluster.replicas, *cluster.workers]), cluster.describe()
        assert set(before + after) <= set(statuses)
        assert all(statuses[task_id] == "completed" for task_id in after), [statuses[t] for t in after]
        for task_id in before:
            status, body = request(f"{cluster.url}/orchestrator/tasks/{task_id}")
            assert status == 200 and body["status"] in FINISHED, body
            if body["status"] == "failed":
                assert body.get("error"), f"task {task_id} failed without a reason: {body}"
    finally:
        from skills.store import close_stores

        close_stores()
        postgres.stop(purge=True)


def test_replicas_started_together_on_an_empty_database_migrate_it_once(state_db_url, clusters):
    from skills.store.migrations import POSTGRES_MIGRATIONS

    cluster = clusters(state_db_url, replicas=3, workers=0)  # spawned at the same moment, then awaited
    for replica in cluster.replicas:  # each answers from the shared schema: none lost a migration race
        status, body = request(replica.url + "/orchestrator/tasks/" + "0" * 32)
        assert status == 404 and body["code"] == "task_not_found", body
    applied = db_rows(state_db_url, "SELECT name, count(*) FROM _migrations GROUP BY name ORDER BY name")
    assert applied == [(name, 1) for name, _ in sorted(POSTGRES_MIGRATIONS)]
    assert all(replica.alive() for replica in cluster.replicas), cluster.describe()


def test_a_websocket_through_nginx_is_upgraded_and_answered_by_a_replica(state_db_url, clusters):
    import websocket  # websocket-client

    cluster = clusters(state_db_url, replicas=2, workers=0)
    # nginx must pass Upgrade/Connection (hop-by-hop) and keep Host, which the replica's Origin check reads
    connection = websocket.create_connection(
        cluster.url.replace("http://", "ws://", 1) + "/ws/orchestrator", timeout=60, origin=cluster.url
    )
    try:
        connection.send("Check CPU usage on the server")
        answer = json.loads(connection.recv())
    finally:
        connection.close(timeout=2)
    assert answer["success"] is True and answer["agent"] == "vps-monitor", answer
