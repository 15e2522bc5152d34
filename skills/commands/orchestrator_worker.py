"""orchestrator_worker: run queued async tasks, without HTTP (the claimer is skills/gateway/claimer.py).

It claims from the store the servers queue tasks in (SQLite in the state directory on this machine,
or PostgreSQL at ORCHESTRATOR_DATABASE_URL from any machine) and runs them on warm bin/ script
workers, exactly like a server's own claimer. It prints one JSON line once it claims
({"worker": <lease owner>, "concurrency": 4, ...}) and one when it stops ({"stopped": true,
"completed": ..., "released": ...}); the log (and stderr) get one line per task.

SIGTERM or Ctrl-C: stop claiming, let running tasks finish within ORCHESTRATOR_SHUTDOWN_GRACE, give
the rest back to the queue. SIGKILL loses nothing either: the leases expire and another claimer
takes the tasks over. Exit 0 after a stop, 2 on bad settings, 3 when the store cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from skills.cli import exit_statuses_text, run_command
from skills.errors import BadInput


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="orchestrator_worker",
        description="Claim and run the orchestrator's queued async tasks (no HTTP); prints one JSON line once "
        "claiming and one when stopped.",
        epilog=exit_statuses_text(
            {0: "stopped by SIGTERM or Ctrl-C", 2: "bad settings or arguments", 3: "the task store cannot be reached"},
            every=False,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--concurrency", help="tasks run at once (default ORCHESTRATOR_ASYNC_CONCURRENCY, 4)", metavar="N"
    )
    return parser.parse_args(argv)


def concurrency_from(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise BadInput(f"--concurrency must be a whole number of at least 1, got {raw!r}", field="concurrency")
    return value


def run(args: argparse.Namespace) -> int:
    from skills.config import load_settings
    from skills.gateway.claimer import check_claim_settings, start_claiming
    from skills.gateway.logs import setup_logging
    from skills.gateway.service import Service
    from skills.store import open_store

    settings = load_settings()
    settings.async_concurrency = concurrency_from(args.concurrency, settings.async_concurrency)
    check_claim_settings(settings)
    log = setup_logging(settings.log_path, settings, also_stderr=True)
    store = open_store(settings)  # at once: a worker that cannot reach its queue says so (StoreError), not idles
    service = Service(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    claimer = start_claiming(service, settings.async_concurrency)
    ready = {
        "worker": claimer.owner,
        "concurrency": claimer.slots,
        "lease_s": claimer.lease_s,
        "store": store.describe(),
        "log": settings.log_path,
    }
    print(json.dumps(ready), flush=True)
    while not stop.wait(0.5):
        pass
    log.info("Stopping | Running tasks get %gs to finish", settings.shutdown_grace_s)
    service.close(grace_s=settings.shutdown_grace_s)
    counts = {name: claimer.counts[name] for name in ("completed", "failed", "dropped", "released", "interrupted")}
    log.info("Stopped | %s", " | ".join(f"{name.capitalize()}: {count}" for name, count in counts.items()))
    print(json.dumps({"stopped": True, **counts}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command("orchestrator_worker", lambda: run(args))
