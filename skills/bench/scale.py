"""Measure the async-task queue as workers are added: throughput with 1, 2 and 3 workers, claim wait.

Each run starts N real `bin/orchestrator_worker` processes on a fresh database and queues tasks
straight into the store (what a replica does on POST /orchestrator/execute-async; no replica runs,
so only the workers claim). Every task is an execute of vps-monitor whose one model call goes to
the Messages API test double answering in MODEL_DELAY_S, so a task's time is mostly waiting on the
model, as with Claude. Reported, as medians over the repeats:

- throughput: tasks a second from the first queued to the last finished, per worker count, and the
  ratio of 3 workers to 1 (target >= 2.5);
- claim wait: from a task's creation to its claim (both stamped by the database) while the workers
  sit idle, p50 (target <= 20 ms): how fast an idle worker hears of new work.

Each worker runs ORCHESTRATOR_ASYNC_CONCURRENCY tasks at once (4; `--concurrency N` sets it): with 4,
three workers keep 12 tasks going, so 60 tasks a second is the ceiling at 200 ms a task. A run
costs a warm script worker ~8 ms of CPU (it was ~70 ms while each run built its own SSL context,
and then two cores, not the queue, were the limit).

Both backends: PostgreSQL (a throw-away cluster, skills/demo_database) and SQLite (one state dir
shared by every worker on this machine). The test double and the process handling come from
tests/fixtures, so this needs `bin/setup --test`.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime

MODEL_DELAY_S = 0.2
REQUEST = {"agent": "vps-monitor", "query": "Check CPU usage on the server"}
FINISH_TIMEOUT_S = 300.0  # a run that has not finished by then is reported as failed, not waited on
POLL_S = 0.01
TARGET_RATIO = 2.5


@dataclass
class Plan:
    """How much to measure: tasks per run, runs per worker count, claim waits per run, warm-up rounds."""

    tasks: int = 120
    repeats: int = 3
    idle_samples: int = 10
    warm_up_rounds: int = 2  # each queues two tasks per slot of every worker
    concurrency: int | None = None  # tasks a worker runs at once; None: its default (ORCHESTRATOR_ASYNC_CONCURRENCY)


QUICK = Plan(tasks=6, repeats=1, idle_samples=2, warm_up_rounds=1)
TARGET_CLAIM_WAIT_MS = 20.0


class BenchmarkError(Exception):
    """Something the benchmark needs did not start or did not finish; the message says what."""


def _settings(database_url: str | None, state_dir: str):
    from skills.config import Settings

    env = {"ORCHESTRATOR_STATE_DIR": state_dir}
    if database_url:
        env["ORCHESTRATOR_DATABASE_URL"] = database_url
    return Settings(env)


def _wait_finished(store, task_ids: list[str], deadline: float) -> list[dict]:
    """Every task's final body; BenchmarkError past the deadline.

    While tasks run, one COUNT a poll says whether any is left (each run has a database of its own,
    so unfinished tasks are ours): polling every task's row would make the benchmark a heavy client
    of the CPU it is measuring."""
    while store.count_unfinished():
        if time.monotonic() > deadline:
            raise BenchmarkError(
                f"{store.count_unfinished()} of {len(task_ids)} tasks were still unfinished after the deadline"
            )
        time.sleep(POLL_S)
    bodies = [store.get_task(task_id) for task_id in task_ids]
    unfinished = [body for body in bodies if not body or body["status"] not in ("completed", "failed")]
    if unfinished:
        raise BenchmarkError(f"{len(unfinished)} tasks are neither queued, processing nor finished")
    return bodies


def _claim_wait_ms(database_url: str | None, state_dir: str, task_id: str) -> float:
    """Creation to claim of one task, as the database stamped them (the claim time is not in the
    task's public body, so it is read from the table)."""
    if database_url:
        import psycopg2

        connection = psycopg2.connect(database_url, connect_timeout=10)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT extract(epoch FROM claimed_at - created_at) * 1000 FROM http_tasks WHERE id = %s",
                    (task_id,),
                )
                return float(cursor.fetchone()[0])
        finally:
            connection.close()
    from skills.ledger.records import ledger_path
    from skills.store.migrations import open_sqlite

    conn = open_sqlite(ledger_path(_settings(None, state_dir)))
    try:
        row = conn.execute("SELECT created_at, claimed_at FROM http_tasks WHERE id = ?", (task_id,)).fetchone()
    finally:
        conn.close()
    created = datetime.fromisoformat(row["created_at"]).timestamp()  # "...Z": UTC (Python 3.11+)
    return (row["claimed_at"] - created) * 1000  # SQLite: claimed_at is epoch seconds, created_at ISO text


def measure_run(
    backend: str, database_url: str | None, workers: int, plan: Plan, fake_env: dict, work_dir: str
) -> dict:
    """One run: `workers` workers on a fresh database; throughput over the plan's tasks, claim waits when idle."""
    from skills.store import open_store
    from tests.fixtures.cluster import Cluster, ClusterError

    env = {**fake_env, "ORCHESTRATOR_ENTITY_TTL": "0"}
    if plan.concurrency:
        env["ORCHESTRATOR_ASYNC_CONCURRENCY"] = str(plan.concurrency)
    cluster = Cluster(work_dir, database_url, env=env)
    try:
        try:
            for member in [cluster.spawn_worker() for _ in range(workers)]:
                cluster.await_worker(member)
        except ClusterError as error:
            raise BenchmarkError(str(error)) from None
        store = open_store(_settings(database_url, cluster.shared_state_dir))
        deadline = time.monotonic() + FINISH_TIMEOUT_S
        # warm-up: every slot of every worker gets its script worker started before the clock runs
        # (a pool grows on demand, and a start costs seconds on a busy machine)
        slots = sum(member.info.get("concurrency", 1) for member in cluster.workers)
        for _ in range(plan.warm_up_rounds):
            _wait_finished(store, [store.create_task("execute", REQUEST) for _ in range(slots * 2)], deadline)
        started = time.monotonic()
        ids = [store.create_task("execute", REQUEST) for _ in range(plan.tasks)]
        bodies = _wait_finished(store, ids, deadline)
        elapsed = time.monotonic() - started
        waits = []
        for _ in range(plan.idle_samples):
            time.sleep(0.3)  # the workers are idle again, waiting for work
            task_id = store.create_task("execute", REQUEST)
            bodies += _wait_finished(store, [task_id], deadline)
            waits.append(_claim_wait_ms(database_url, cluster.shared_state_dir, task_id))
        return {
            "backend": backend,
            "workers": workers,
            "tasks": plan.tasks,
            "seconds": round(elapsed, 3),
            "throughput_tps": round(plan.tasks / elapsed, 2),
            "slots": slots,
            "claim_wait_ms": [round(wait, 2) for wait in waits],
            "failed": sum(1 for body in bodies if body["status"] != "completed"),
        }
    finally:
        cluster.stop()
        from skills.store import close_stores

        close_stores(database_url)


class ThrowAwayDatabases:
    """A fresh database per run: a new PostgreSQL database on one throw-away cluster, or no URL (SQLite)."""

    def __init__(self, backend: str, work_dir: str):
        self.backend = backend
        self.work_dir = work_dir
        self.postgres = None
        self.count = 0

    def __enter__(self):
        if self.backend == "postgres":
            from tests.fixtures.cluster import ClusterError, OwnPostgres

            self.postgres = OwnPostgres(os.path.join(self.work_dir, "postgres"))
            try:
                self.postgres.start()
            except ClusterError as error:
                raise BenchmarkError(str(error)) from None
        return self

    def fresh(self) -> str | None:
        if self.postgres is None:
            return None
        import psycopg2

        self.count += 1
        name = f"bench_{self.count}"
        connection = psycopg2.connect(self.postgres.url, connect_timeout=10)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.postgres.url.rsplit("/", 1)[0] + "/" + name

    def __exit__(self, *exc):
        if self.postgres is not None:
            self.postgres.stop(purge=True)


def summarise(runs: list[dict], worker_counts: list[int]) -> dict:
    """Medians per worker count, the ratio of the most workers to one, the idle claim wait p50."""
    throughput = {
        str(n): statistics.median([r["throughput_tps"] for r in runs if r["workers"] == n]) for n in worker_counts
    }
    waits = [wait for run in runs for wait in run["claim_wait_ms"]]
    summary = {
        "throughput_tps": throughput,
        "claim_wait_p50_ms": round(statistics.median(waits), 2) if waits else None,
        "failed_tasks": sum(r["failed"] for r in runs),
    }
    if 1 in worker_counts and len(worker_counts) > 1:
        most = max(worker_counts)
        summary[f"ratio_{most}_vs_1"] = round(throughput[str(most)] / throughput["1"], 2)
    return summary


def run(backends: list[str], worker_counts: list[int], plan: Plan) -> dict:
    from tests.fixtures.fake_anthropic import FakeAnthropic, delayed, reply_text

    load_before = os.getloadavg()[0]
    fake = FakeAnthropic().start()
    fake.answer_all(delayed(MODEL_DELAY_S, reply_text("CPU usage is 12%.")))
    report = {
        "model_delay_ms": MODEL_DELAY_S * 1000,
        "plan": asdict(plan),
        "targets": {f"ratio_{max(worker_counts)}_vs_1": TARGET_RATIO, "claim_wait_p50_ms": TARGET_CLAIM_WAIT_MS},
        "machine": {"cpus": os.cpu_count(), "load_1m_before": round(load_before, 2)},
        "backends": {},
        "runs": [],
    }
    try:
        with tempfile.TemporaryDirectory(prefix="orchestrator-scale-") as work_dir:
            for backend in backends:
                with ThrowAwayDatabases(backend, work_dir) as databases:
                    runs = []
                    for repeat in range(plan.repeats):
                        for workers in worker_counts:
                            run_dir = os.path.join(work_dir, f"{backend}-{repeat}-{workers}")
                            runs.append(measure_run(backend, databases.fresh(), workers, plan, fake.env(), run_dir))
                    report["backends"][backend] = summarise(runs, worker_counts)
                    report["runs"] += runs
    finally:
        fake.stop()
    report["machine"]["load_1m_after"] = round(os.getloadavg()[0], 2)
    return report


def table(report: dict) -> str:
    machine = report["machine"]
    counts = list(next(iter(report["backends"].values()))["throughput_tps"]) if report["backends"] else []
    heading = (
        f"async tasks against a Messages API double answering in {report['model_delay_ms']:.0f} ms; "
        f"{report['plan']['tasks']} tasks a run, median of {report['plan']['repeats']}; "
        f"load {machine['load_1m_before']} -> {machine['load_1m_after']} on {machine['cpus']} CPUs"
    )
    columns = "".join(f"{n + ' worker(s) t/s':>20}" for n in counts)
    lines = [heading, f"{'backend':<10}{columns}{'ratio':>8}{'claim p50 ms':>14}{'failed':>8}"]
    for backend, summary in report["backends"].items():
        ratio = next((v for k, v in summary.items() if k.startswith("ratio_")), "-")
        figures = "".join(f"{summary['throughput_tps'][n]:>20}" for n in counts)
        lines.append(
            f"{backend:<10}{figures}{ratio:>8}{summary['claim_wait_p50_ms']!s:>14}{summary['failed_tasks']:>8}"
        )
    return "\n".join(lines)


def bad_input(message: str, field: str) -> int:
    print(json.dumps({"error": message, "code": "bad_input", "field": field}))
    return 2


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="benchmark_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2,3", help="comma-separated worker counts (default 1,2,3)")
    parser.add_argument("--tasks", type=int, default=120, help="tasks per run (default 120)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per worker count; medians are reported")
    parser.add_argument("--idle-samples", type=int, default=10, help="claim waits measured per run (default 10)")
    parser.add_argument("--backends", default="postgres,sqlite", help="postgres, sqlite or both (default)")
    parser.add_argument("--concurrency", type=int, help="tasks each worker runs at once (default: the worker's, 4)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 6 tasks, 1 repeat, 2 claim waits, short warm-up"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan(args.tasks, args.repeats, args.idle_samples)
    plan = replace(plan, concurrency=args.concurrency)
    try:
        counts = sorted({int(part) for part in args.workers.split(",") if part.strip()})
    except ValueError:
        counts = []
    if not counts or counts[0] < 1:
        return bad_input("--workers takes positive whole numbers like 1,2,3", "workers")
    backends = [part.strip() for part in args.backends.split(",") if part.strip()]
    if not backends or set(backends) - {"postgres", "sqlite"}:
        return bad_input("--backends takes postgres, sqlite or postgres,sqlite", "backends")
    if plan.concurrency is not None and plan.concurrency < 1:
        return bad_input("--concurrency must be at least 1", "concurrency")
    if plan.tasks < 1 or plan.repeats < 1 or plan.idle_samples < 0:
        return bad_input("--tasks and --repeats must be >= 1, --idle-samples >= 0", "tasks")
    try:
        report = run(backends, counts, plan)
    except ImportError as error:
        print(
            json.dumps(
                {"error": f"the test double is missing ({error}): run bin/setup --test", "code": "not_configured"}
            )
        )
        return 2
    except BenchmarkError as error:
        print(json.dumps({"error": str(error), "code": "benchmark_failed"}))
        return 3
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 1 if any(summary["failed_tasks"] for summary in report["backends"].values()) else 0
