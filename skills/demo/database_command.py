"""demo_database: start, stop, inspect or reload the local demo PostgreSQL (skills/demo/database.py).

Subcommands are why this script uses argparse rather than skills/cli.py: it is never on the
routing hot path, so the import cost does not matter here.
"""

from __future__ import annotations

import argparse
import sys

from skills.errors import OrchestratorError
from skills.jsonout import dumps


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="demo_database",
        description="A local PostgreSQL with FibreFlow's demo data; its URL goes where the agents look for it.",
    )
    parser.add_argument("--pretty", action="store_true", help="indent the JSON output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{start,stop,status,load}")
    commands.add_parser("start", help="create (first time), start and load the demo database; no-op when running")
    stop = commands.add_parser("stop", help="stop the server")
    stop.add_argument("--purge", action="store_true", help="also delete the cluster's files")
    commands.add_parser("status", help="is it running, on which port, where is the URL file")
    commands.add_parser("load", help="reload the demo schema and data (undoes any changes)")
    return parser


def run(command: str, settings, purge: bool = False) -> dict:
    from skills.demo import database as demo_database

    if command == "start":
        return demo_database.start(settings)
    if command == "stop":
        return demo_database.stop(settings, purge=purge)
    if command == "load":
        return demo_database.load(settings)
    return demo_database.status(settings)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 with usage on bad arguments
    try:
        from skills.config import load_settings

        payload, code = run(args.command, load_settings(), getattr(args, "purge", False)), 0
    except OrchestratorError as error:
        payload, code = error.to_json(), error.exit_status
    sys.stdout.write(dumps(payload, args.pretty) + "\n")
    return code
