"""import_registry FILE [--output PATH] [--force]: the original orchestrator/registry.json as
registry/agents.yaml, with a JSON report of what was mapped, defaulted and dropped.

The output defaults to the registry the orchestrator loads (ORCHESTRATOR_REGISTRY or
registry/agents.yaml); an existing file is replaced only with --force.
"""

from __future__ import annotations

import argparse
import sys

from skills.cli import exit_statuses_text, run_command
from skills.errors import BadInput
from skills.jsonout import dumps


class _Parser(argparse.ArgumentParser):
    """argparse whose mistakes are JSON errors like every other script's (exit 2)."""

    def error(self, message: str):
        raise BadInput(f"{message} (see import_registry --help)", field="arguments")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="import_registry",
        description="Convert the original orchestrator's registry.json (the guide's orchestrator/registry.json) "
        "into a registry/agents.yaml file, and report as JSON what was mapped, defaulted and dropped.",
        epilog=exit_statuses_text(
            {2: "bad arguments, an unreadable or invalid file, or the output exists (--force)"}, every=False
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="the registry.json to read")
    parser.add_argument("--output", help="where to write (default: the registry the orchestrator loads)")
    parser.add_argument("--force", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON report")
    return parser


def _run(argv: list[str], pretty: bool) -> int:
    args = _parser().parse_args(argv)
    from skills.config import load_settings
    from skills.registry.importer import import_registry

    settings = load_settings()
    output = args.output or settings.registry_path
    payload = import_registry(args.file, output, force=args.force, agents_dir=settings.agents_dir)
    try:
        print(dumps(payload, pretty), flush=True)
    except BrokenPipeError:  # the reader went away (e.g. `| head`); the file is written all the same
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    pretty = "--pretty" in argv
    return run_command("import_registry", lambda: _run(argv, pretty), pretty=pretty, note_on_stderr=False)
