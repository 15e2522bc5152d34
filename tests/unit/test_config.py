"""Settings from the environment and `.env`, which means what python-dotenv says it means."""

import os
import subprocess
import sys

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from skills.config import load_settings
from tests.fixtures.scripts import ROOT

TRICKY = [
    "A=1",
    "A = 1",
    " A= 1 ",
    "export A=1",
    "export  A=1",
    "A=",
    "A",
    "A=''",
    'A=""',
    "A='x y'",
    'A="x y"',
    "A=x y",
    "A=x  # a comment",
    "A=x#not a comment",
    "# a comment\n\nA=1\r\nB=2\r\n",
    "A=it's",
    "A=a=b",
    "NEON_DATABASE_URL=postgresql://user:secret@host:5432/db?sslmode=require",
    "A='a\"b'",
    'A="a\\nb"',
    'A="x"y',
    "9A=1",
    "a-b=1",
    "A=1\nA=2",
    "A=${HOME}/x",
    'A="${B:-default}"',
    "A=caf\u00e9",
    "\ufeffA=1",
    "A=1\tB",
    "A='multi\nline'",
    "A=1\x0cB=2",
]


def read_env_file(tmp_path, text: str) -> dict:
    """What load_settings takes from `text` as a .env file (the environment holds nothing else)."""
    path = tmp_path / "test.env"
    path.write_bytes(text.encode("utf-8"))
    environ = {"ORCHESTRATOR_ENV_FILE": str(path)}
    env = load_settings(environ).env
    return {key: value for key, value in env.items() if key not in environ}


def python_dotenv(tmp_path, text: str) -> dict:
    path = tmp_path / "test.env"
    path.write_bytes(text.encode("utf-8"))
    return {key: value for key, value in dotenv_values(path).items() if value is not None}


@pytest.mark.parametrize("text", TRICKY)
def test_a_env_file_means_what_python_dotenv_says(tmp_path, text):
    assert read_env_file(tmp_path, text) == python_dotenv(tmp_path, text)


LINES = st.one_of(
    st.tuples(
        st.sampled_from(["", " ", "export "]),
        st.sampled_from(["A", "KEY_2", "_x", "9A", "a-b", "A B", ""]),
        st.sampled_from(["=", " = ", "", "=="]),
        st.text(alphabet="ab 1:/?@=#$'\"\\`\t{}-_.", max_size=12),
    ).map("".join),
    st.sampled_from(["", "# comment", "   ", "\r"]),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINES, max_size=6))
def test_any_env_file_means_what_python_dotenv_says(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("env")
    text = "\n".join(lines)
    assert read_env_file(folder, text) == python_dotenv(folder, text)


def test_no_env_file_means_no_python_dotenv_import(tmp_path):
    code = (
        f"import sys; sys.path.insert(0, {ROOT!r}); from skills.config import load_settings; s = load_settings();"
        "print(s.max_turns, s.api_key, 'dotenv' in sys.modules)"
    )
    env = {**os.environ, "ORCHESTRATOR_ENV_FILE": str(tmp_path / "missing.env"), "ORCHESTRATOR_API_KEY": "from-env"}
    env.pop("ORCHESTRATOR_MAX_TURNS", None)
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    assert run.stdout.split() == ["8", "from-env", "False"]


def test_a_plain_env_file_sets_its_values(tmp_path):
    (tmp_path / "plain.env").write_text("# from .env.example\nANTHROPIC_API_KEY=\nORCHESTRATOR_MAX_TURNS='3'\n")
    settings_ = load_settings({"ORCHESTRATOR_ENV_FILE": str(tmp_path / "plain.env"), "ORCHESTRATOR_API_KEY": "k"})
    assert (settings_.max_turns, settings_.anthropic_api_key, settings_.api_key) == (3, None, "k")


def test_the_environment_wins_over_the_env_file(tmp_path):
    path = tmp_path / "test.env"
    path.write_text("ORCHESTRATOR_MAX_TURNS=3\nORCHESTRATOR_MAX_TOKENS=99\n")
    settings_ = load_settings({"ORCHESTRATOR_ENV_FILE": str(path), "ORCHESTRATOR_MAX_TURNS": "5"})
    assert (settings_.max_turns, settings_.max_tokens) == (5, 99)
