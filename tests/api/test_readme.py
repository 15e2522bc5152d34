"""README.md stays true: its deployment files match deploy/, its commands exist, and what it
says they print and answer is what they do."""

import json
import os
import re
import subprocess

import pytest

from tests.fixtures.scripts import ROOT, clean_env


def readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("name", ["orchestrator.service", "nginx-orchestrator.conf", "Dockerfile"])
def test_readme_shows_each_deployment_file_as_it_is(name):
    with open(os.path.join(ROOT, "deploy", name), encoding="utf-8") as handle:
        assert handle.read().rstrip("\n") in readme(), f"README's copy of deploy/{name} is stale"


def test_every_bin_command_the_readme_names_exists():
    for command in set(re.findall(r"(?<![/.\w])bin/([a-z_]+)", readme())):
        assert os.access(os.path.join(ROOT, "bin", command), os.X_OK), f"bin/{command} is missing"


def test_ci_runs_the_readmes_test_command():
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        assert "bin/test" in handle.read()
    assert "bin/test " in readme()


def console_examples(text: str) -> list[tuple[str, str]]:
    """(command, what the README shows it printing) for every `$ ` line of its console blocks.

    A command whose comment calls its figures illustrative (it needs an API key, say) is left out:
    the README says plainly that its output is not this machine's.
    """
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        command, comment, shown = None, "", []
        for line in block.splitlines() + ["$ "]:
            if line.startswith("$ "):
                if command and "illustrative" not in comment:
                    examples.append((command, "\n".join(shown)))
                command, _, comment = line[2:].partition("  #")
                command, shown = command.strip(), []
            else:
                shown.append(line)
    return examples


def without_timing(text: str) -> dict:
    """The answer without what moves between runs or refits: the timing and the 0..1 score."""
    body = json.loads(text)
    body.pop("execution_time_ms", None)
    for agent in [body.get("agent") or {}, *body.get("alternatives", []), *body.get("options", [])]:
        agent.pop("score", None)
    return body


def test_each_route_task_example_shows_what_the_program_prints(state_dir):
    examples = [(c, shown) for c, shown in console_examples(readme()) if "bin/route_task" in c and shown.strip()]
    assert len(examples) >= 2, "the README's route_task examples went missing"
    for command, shown in examples:
        run = subprocess.run(
            ["bash", "-c", command],
            check=False,
            cwd=ROOT,
            env=clean_env(state_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert without_timing(run.stdout) == without_timing(shown), f"README shows another answer for: {command}"


def test_smart_execute_refusals_in_the_readme_match_the_code():
    from skills import errors
    from skills.execution import smart
    from skills.gateway.replies import CODE_STATUS

    rows = re.findall(r"^\| `([a-z_]+)` \| (\d) \| (\d{3}) \|", readme(), re.MULTILINE)
    assert {code for code, _, _ in rows} == {"no_match", "ambiguous_task", "agent_not_configured", "model_required"}
    exits = {cls.code: cls.exit_status for cls in vars(errors).values() if isinstance(cls, type)}
    for code, exit_status, http_status in rows:
        assert CODE_STATUS[code] == int(http_status), code
        if code in exits:
            assert exits[code] == int(exit_status), code
    documented_exit = {code: int(exit_status) for code, exit_status, _ in rows}
    for status, code in (("no_match", "no_match"), ("multiple_matches", "ambiguous_task")):
        body, exit_status = smart._unsure({"status": status, "task": "t", "message": "m"})
        assert (body["code"], exit_status) == (code, documented_exit[code])


def test_the_requests_version_the_readme_names_is_the_one_setup_installs():
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as handle:
        pinned = re.search(r'"(requests[^"]*)"', handle.read()).group(1)
    assert f"pip install '{pinned}'" in readme()
