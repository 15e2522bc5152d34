"""orchestrator_mcp: the orchestrator's agents as an MCP server (see skills/mcp/server.py).

stdio by default (what Claude Desktop and Claude Code start); `--http` serves streamable HTTP at
/mcp and prints one JSON line when listening ({"listening": "http://127.0.0.1:8002/mcp", ...}),
like orchestrator_server. It listens on loopback only unless --allow-remote says otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import socket
import sys

from skills.cli import exit_statuses_text, run_command
from skills.errors import BadInput

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8002
DESCRIPTION = """\
Serve the FibreFlow orchestrator over the Model Context Protocol.

Tools: route_task, execute_agent, smart_execute, list_agents, agent_info, workforce_stats
(each runs the script of that name and answers with its JSON; smart_execute is
execute_agent given a task). Resources:
orchestrator://agents, orchestrator://agents/{id}, orchestrator://executions/recent.
Prompt: ask_fibreflow.

Transports: stdio (the default: an MCP client starts this command) or streamable HTTP at
/mcp with --http. Over HTTP, ORCHESTRATOR_API_KEY (when set) is required as
'Authorization: Bearer <key>', and a request with an Origin header must come from one of
ALLOWED_ORIGINS. Settings come from the environment and .env (see .env.example)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="orchestrator_mcp",
        description=DESCRIPTION,
        epilog=exit_statuses_text(
            {0: "the client closed stdio, or SIGTERM or Ctrl-C", 2: "bad settings or arguments"}, every=False
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"with --http: address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"with --http: port (default {DEFAULT_PORT}; 0 = any free)"
    )
    parser.add_argument("--allow-remote", action="store_true", help="with --http: listen on an address beyond loopback")
    return parser.parse_args(argv)


def check_host(host: str, allow_remote: bool, api_key: str | None) -> str:
    """The start-up note about who can reach the server; BadInput for a non-loopback host without --allow-remote."""
    from skills.gateway.guards import is_loopback

    if is_loopback(host):
        return f"listening on loopback ({'API key required' if api_key else 'no API key'})"
    if not allow_remote:
        raise BadInput(
            f"refusing to listen on {host}: the MCP server stays on loopback unless started with --allow-remote "
            "(and then set ORCHESTRATOR_API_KEY)",
            field="host",
        )
    if api_key:
        return f"listening on {host}; API key required"
    return f"WARNING: listening on {host} with no API key: anyone who can reach it may run agents"


def _require_sdk() -> None:
    if importlib.util.find_spec("mcp") is None:
        raise BadInput(
            "the MCP SDK is not installed: run bin/setup (it installs the .[mcp] extra), "
            "or .venv/bin/pip install -e '.[mcp]'",
            field="mcp",
        )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port", field="port") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _stop_on_sigterm(signum, frame) -> None:
    """SIGTERM ends the server through the normal path, so `finally` stops the workers (and their runs).

    uvicorn re-raises the SIGTERM it caught once it has shut down; with the default action the
    process would die there, before its workers are stopped.
    """
    raise SystemExit(0)


def serve(args: argparse.Namespace) -> int:
    from skills.config import load_settings
    from skills.gateway.logs import setup_logging
    from skills.gateway.service import Service

    _require_sdk()
    settings = load_settings()
    note = check_host(args.host, args.allow_remote, settings.api_key) if args.http else "serving on stdio"
    sock = _bind(args.host, args.port) if args.http else None
    log = setup_logging(settings.log_path, settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    service = Service(settings)  # warm workers start now, while the SDK is imported below
    try:
        from skills.mcp.server import build_server
        from skills.mcp.transports import serve_http, serve_stdio

        server = build_server(service, settings)
        print(f"orchestrator_mcp: {note}", file=sys.stderr, flush=True)
        if sock is None:
            log.info("MCP server on stdio")
            serve_stdio(server)
            return 0
        host, port = sock.getsockname()[:2]
        url = f"http://[{host}]:{port}/mcp" if ":" in host else f"http://{host}:{port}/mcp"
        log.info("MCP server listening on %s | Auth: %s", url, "on" if settings.api_key else "off")
        print(json.dumps({"listening": url, "host": host, "port": port, "auth": bool(settings.api_key)}), flush=True)
        serve_http(server, sock, settings)
        return 0
    finally:
        service.close()
        log.info("MCP server stopped")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run_command("orchestrator_mcp", lambda: serve(args))
    except KeyboardInterrupt:
        return 0
