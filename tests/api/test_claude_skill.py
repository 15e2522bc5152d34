"""The Claude Code skill: valid front matter, a short body, and every command it shows runs."""

import json
import os
import re
import subprocess

import yaml

from tests.fixtures.scripts import ROOT, clean_env

SKILL_DIR = os.path.join(ROOT, ".claude", "skills", "orchestrator")


def read_skill() -> tuple[dict, str]:
    with open(os.path.join(SKILL_DIR, "SKILL.md"), encoding="utf-8") as handle:
        text = handle.read()
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    assert match, "SKILL.md must start with YAML front matter between --- lines"
    return yaml.safe_load(match.group(1)), match.group(2)


def shown_commands(body: str) -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", body, re.DOTALL):
        commands += [line.strip() for line in block.splitlines() if line.strip().startswith("bin/")]
    commands += [c for c in re.findall(r"`(bin/[^`]+)`", body) if "..." not in c]
    return commands


def test_front_matter_names_the_folder_and_says_when_to_use_it():
    front, _ = read_skill()
    assert front["name"] == os.path.basename(SKILL_DIR)
    assert re.fullmatch(r"[a-z0-9-]{1,64}", front["name"])
    assert "Use when" in front["description"] and len(front["description"]) <= 1024


def test_body_stays_small():
    _, body = read_skill()
    assert len(body.split()) < 600, "keep the body under ~800 tokens"


def test_every_command_the_skill_shows_runs_and_prints_json(state_dir):
    _, body = read_skill()
    commands = shown_commands(body)
    assert len(commands) >= 6
    for command in commands:
        run = subprocess.run(
            ["bash", "-c", command],
            check=False,
            cwd=ROOT,
            env=clean_env(state_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )
        document = json.loads(run.stdout)  # valid JSON whatever the exit code
        assert run.returncode in (0, 2), f"{command}: {run.stdout}"
        if run.returncode == 2:  # only allowed for agents this machine has no configuration for
            assert document["code"] == "agent_not_configured", command


def test_settings_allow_every_script_the_skill_uses():
    with open(os.path.join(ROOT, ".claude", "settings.json")) as handle:
        allowed = json.load(handle)["permissions"]["allow"]
    _, body = read_skill()
    for command in shown_commands(body):
        script = command.split()[0]
        assert any(rule.startswith(f"Bash({script}") for rule in allowed), script
