"""demo: route and run a few real tasks on the offline path, showing each command as typed.

bin/demo sets up .venv first, then runs this. Every command is printed quoted with shlex
before its output, so a line copied from the demo and pasted into a shell runs the same
command. The demo database keeps running afterwards for the reader's own queries.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass

from skills.config import PROJECT_ROOT


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    stdin: str | None = None  # piped in with `echo '...' |`, as a reader would type it


STEPS = (
    Step(("bin/demo_database", "start")),
    Step(("bin/route_task", "--task", "Check CPU usage on the server", "--auto-select", "--pretty")),
    Step(("bin/route_task", "--json", "-"), stdin='{"task": "How many active contractors do we have?"}'),
    Step(("bin/list_agents", "--category", "database")),
    Step(("bin/agent_info", "--agent", "convex-database")),
    Step(("bin/execute_agent", "--agent", "vps-monitor", "--query", "Show CPU and memory usage", "--pretty")),
    Step(("bin/execute_agent", "--task", "Is the disk nearly full on the server?")),
    Step(("bin/execute_agent", "--task", "How many active subcontractors do we have?")),
    Step(("bin/execute_agent", "--agent", "neon-database", "--query", "How many tables are in the database?")),
    Step(("bin/execute_agent", "--task", "which projects are over budget")),
    Step(("bin/workforce_stats", "--since", "1h", "--pretty")),
)


def command_line(step: Step) -> str:
    """The step as a shell line that runs exactly this argv (and stdin) when pasted."""
    line = shlex.join(step.argv)
    if step.stdin is not None:
        line = f"echo {shlex.quote(step.stdin)} | {line}"
    return line


def _heading(text: str, bold: bool) -> str:
    return f"\033[1m{text}\033[0m" if bold else text


def run_demo(steps: tuple[Step, ...] = STEPS, root: str = PROJECT_ROOT, out=None) -> int:
    """Run each step in `root`, its output passed straight through; the worst exit status."""
    out = out or sys.stdout
    bold = out.isatty()
    worst = 0
    for step in steps:
        out.write("\n" + _heading(f"$ {command_line(step)}", bold) + "\n")
        out.flush()
        status = subprocess.run(list(step.argv), cwd=root, input=step.stdin, text=True, check=False).returncode
        if status:
            out.write(f"(exit status {status})\n")
            if step is steps[0]:
                return status  # without the demo database the rest would only show that
        worst = max(worst, status)
    out.write(
        "\n" + _heading("Done.", bold) + " The demo database keeps running for your own queries; "
        "stop it with bin/demo_database stop.\n"
    )
    return worst


if __name__ == "__main__":
    sys.exit(run_demo())
