"""README.md and docs/ stay true: the front door stays short and names the commands CI runs,
every link and path they give leads somewhere, and what they say the scripts print and answer is
what the scripts do."""

import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from tests.fixtures.scripts import ROOT, clean_env

DOCS = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
PAGES = [os.path.join(ROOT, "README.md"), *DOCS]


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def readme() -> str:
    return read("README.md")


def all_pages() -> str:
    return "\n".join(read(page) for page in PAGES)


def prose(text: str) -> str:
    """The page without its fenced code blocks: a `# comment` in a shell block is no heading."""
    return re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to dashes."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", prose(text), re.MULTILINE):
        found.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return found


def test_the_readme_is_a_front_door_of_at_most_200_lines():
    assert len(readme().splitlines()) <= 200


def test_the_readmes_two_commands_are_the_demo_and_the_tests():
    block = re.search(r"^## Two commands\n\n```bash\n(.*?)```", readme(), re.DOTALL | re.MULTILINE)
    assert block, "the README lost its 'Two commands' block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["bin/demo", "bin/test"]


def test_ci_and_the_two_commands_run_what_the_suite_checks():
    """CI runs the README's test command; bin/test is pytest, bin/demo the demo the suite runs."""
    ci = [line.strip() for line in read(".ci/run").splitlines() if line.strip() and not line.startswith("#")]
    assert ci[-1] == "bin/test -q"
    assert "bin/test -q" in readme()
    assert re.search(r"^exec \.venv/bin/python -m pytest ", read("bin/test"), re.MULTILINE)
    # skills.demo.command's steps are what tests/api/test_command_line.py pastes into a shell
    assert re.search(r"^exec \.venv/bin/python -m skills\.demo\.command$", read("bin/demo"), re.MULTILINE)
    assert "bin/test --fast" in readme()


@pytest.mark.parametrize("arguments", [["--help"], ["-h"], ["--fast", "--help"], ["-x", "--help"]])
def test_bin_test_help_prints_usage_and_installs_nothing(tmp_path, arguments):
    """bin/test alone in an empty project: any set-up or pytest run would leave files or fail."""
    (tmp_path / "bin").mkdir()
    shutil.copy(os.path.join(ROOT, "bin", "test"), tmp_path / "bin" / "test")
    run = subprocess.run(
        ["bash", str(tmp_path / "bin" / "test"), *arguments], check=False, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: bin/test") and "--fast" in run.stdout
    assert run.stderr == ""
    assert sorted(os.listdir(tmp_path)) == ["bin"]


def test_the_readme_links_every_docs_page():
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", readme()))
    assert linked == {os.path.relpath(page, ROOT) for page in DOCS}


@pytest.mark.parametrize("page", [os.path.relpath(page, ROOT) for page in PAGES])
def test_every_relative_link_leads_to_a_file_and_its_heading(page):
    text = read(page)
    links = re.findall(r"\]\(([^)\s]+)\)", prose(text))
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue  # http(s), mailto: not ours to check offline
        target, _, anchor = link.partition("#")
        path = (
            os.path.normpath(os.path.join(ROOT, os.path.dirname(page), target)) if target else os.path.join(ROOT, page)
        )
        assert os.path.exists(path), f"{page}: {link} leads nowhere"
        if anchor:
            assert anchor in anchors(read(path)), f"{page}: {link} names no heading of {os.path.relpath(path, ROOT)}"


PATH_IN_BACKTICKS = re.compile(r"`((?:skills|tests|bin|deploy|registry|agents|docs|\.claude)/[\w./*@-]*)`")


def test_every_file_the_pages_name_exists():
    named = set()
    for page in PAGES:
        named.update(PATH_IN_BACKTICKS.findall(read(page)))
    assert len(named) > 30, "the path pattern stopped matching"
    missing = sorted(path for path in named if not glob.glob(os.path.join(ROOT, path.rstrip("/"))))
    assert missing == []


def test_every_bin_command_the_pages_name_exists():
    for command in set(re.findall(r"(?<![/.\w])bin/([a-z_]+)", all_pages())):
        assert os.access(os.path.join(ROOT, "bin", command), os.X_OK), f"bin/{command} is missing"


def test_the_scripts_page_covers_every_script():
    described = set(re.findall(r"(?<![/.\w])bin/([a-z_]+)", read("docs/scripts.md")))
    assert sorted(set(os.listdir(os.path.join(ROOT, "bin"))) - described) == []


def test_the_deployment_page_links_every_deploy_file():
    linked = set(re.findall(r"\]\(\.\./deploy/([^)#]+)\)", read("docs/deployment.md")))
    assert linked == set(os.listdir(os.path.join(ROOT, "deploy")))


def test_every_setting_the_pages_name_is_in_env_example():
    listed = set(re.findall(r"\b(ORCHESTRATOR_[A-Z_]+)=", read(".env.example")))
    named = set(re.findall(r"\b(ORCHESTRATOR_[A-Z_]+)\b", all_pages()))
    assert named and sorted(named - listed) == []


def console_examples(text: str) -> list[tuple[str, str]]:
    """(command, what the page shows it printing) for every `$ ` line of its console blocks.

    A command whose comment calls its figures illustrative (it needs an API key, say) is left out:
    the page says plainly that its output is not this machine's.
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
    examples = [(c, shown) for c, shown in console_examples(all_pages()) if "bin/route_task" in c and shown.strip()]
    assert len(examples) >= 2, "the route_task examples went missing"
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
        assert without_timing(run.stdout) == without_timing(shown), f"docs show another answer for: {command}"


def test_smart_execute_refusals_in_the_scripts_page_match_the_code():
    from skills import errors
    from skills.execution import smart
    from skills.gateway.replies import CODE_STATUS

    section = read("docs/scripts.md").split("## execute_agent", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d) \| (\d{3}) \|", section, re.MULTILINE)
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


def test_the_requests_version_the_http_page_names_is_the_one_setup_installs():
    pinned = re.search(r'"(requests[^"]*)"', read("pyproject.toml")).group(1)
    assert f"pip install '{pinned}'" in read("docs/http-api.md")


def test_the_error_code_table_in_docs_scripts_is_the_error_family():
    """docs/scripts.md lists every code of skills/errors.py with its exit and HTTP status, and no other."""
    import inspect

    from skills import errors

    family = {
        cls.code: (cls.exit_status, cls.http_status)
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.OrchestratorError)
    }
    with open(os.path.join(ROOT, "docs", "scripts.md"), encoding="utf-8") as handle:
        text = handle.read()
    table = {
        code: (int(exit_status), int(http_status))
        for code, exit_status, http_status in re.findall(r"^\| `([a-z_]+)` \| (\d) \| (\d{3}) \|", text, re.MULTILINE)
    }
    assert table == family
