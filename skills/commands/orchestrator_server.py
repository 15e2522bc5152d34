"""orchestrator_server: the HTTP API over the scripts (see skills/server/app.py).

Prints one JSON line when it is listening ({"listening": "http://127.0.0.1:8001", ...}) so
a supervisor or a test can read the port (useful with --port 0), then serves until SIGTERM
or Ctrl-C. Unless ORCHESTRATOR_CLAIM_TASKS=0 it also claims and runs queued async tasks
(skills/gateway/claimer.py), like bin/orchestrator_worker. Without ORCHESTRATOR_API_KEY it
refuses to listen beyond loopback unless --allow-remote says that is intended.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from skills.cli import exit_statuses_text, run_command
from skills.errors import BadInput

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="orchestrator_server",
        description="Serve the orchestrator API over HTTP; prints one JSON line once listening, then serves "
        "until SIGTERM or Ctrl-C.",
        epilog=exit_statuses_text(
            {0: "stopped by SIGTERM or Ctrl-C", 2: "bad settings or arguments (a port in use)"}, every=False
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen beyond loopback even though ORCHESTRATOR_API_KEY is not set (anyone who can reach it may use it)",
    )
    parser.add_argument(
        "--one-process-per-request",
        action="store_true",
        help="no warm workers: start each script afresh per request (the benchmark's baseline; ORCHESTRATOR_WORKERS=0)",
    )
    return parser.parse_args(argv)


def check_exposure(host: str, api_key: str | None, allow_remote: bool) -> str:
    """The start-up note about who can reach the server; BadInput when it would be open to all."""
    from skills.gateway.guards import is_loopback

    if api_key:
        return "API key required on every endpoint but /health (ORCHESTRATOR_API_KEY is set)"
    if is_loopback(host):
        return "no API key (ORCHESTRATOR_API_KEY unset): listening on loopback only"
    if not allow_remote:
        raise BadInput(
            f"refusing to listen on {host} without an API key: set ORCHESTRATOR_API_KEY, "
            "or pass --allow-remote if anyone who can reach this address may use the API",
            field="host",
        )
    return f"WARNING: no API key and listening on {host}: anyone who can reach it may run agents"


def serve(args: argparse.Namespace) -> int:
    from skills.config import load_settings
    from skills.gateway.logs import setup_logging
    from skills.server.app import App
    from skills.server.listener import OrchestratorHTTPServer

    settings = load_settings()
    if settings.claim_tasks:
        from skills.gateway.claimer import check_claim_settings, start_claiming

        check_claim_settings(settings)
    if args.one_process_per_request:
        settings.server_workers = 0
    note = check_exposure(args.host, settings.api_key, args.allow_remote)
    log = setup_logging(settings.log_path, settings)
    app = App(settings)
    try:
        server = OrchestratorHTTPServer((args.host, args.port), app)
    except OSError as exc:
        app.service.close()
        raise BadInput(f"cannot listen on {args.host}:{args.port}: {exc.strerror}; pick another --port", field="port")
    host, port = server.server_address[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    # this server also runs queued async tasks (its own and other replicas'), unless told to only serve HTTP
    claiming = start_claiming(app.service, settings.async_concurrency).slots if settings.claim_tasks else 0

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = "one process per request" if settings.server_workers <= 0 else f"{settings.server_workers} warm"
    log.info("Listening on %s | Auth: %s | Workers: %s", url, "on" if settings.api_key else "off", workers)
    print(f"orchestrator_server: {note}", file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "listening": url,
                "host": host,
                "port": port,
                "auth": bool(settings.api_key),
                "workers": settings.server_workers,
                "claiming": claiming,
                "log": settings.log_path,
            }
        ),
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        log.info("Stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command("orchestrator_server", lambda: serve(args))
