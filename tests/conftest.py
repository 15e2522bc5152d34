"""Shared test set-up. Real services are started by the fixture plugins below, once per session.

Tests by reach: tests/unit (core functions in-process, real PostgreSQL and sshd where they need
them), tests/api (the scripts, the HTTP API and the MCP server, each as a process), tests/system
(several processes at once: clusters, restarts, failures, soak, benchmarks). Every test in
tests/unit carries the `fast` marker unless it is marked `slow`: `bin/test --fast` runs them.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.sshd",
    "tests.fixtures.fake_anthropic",
    "tests.fixtures.fake_convex",
    "tests.fixtures.scripts",
    "tests.fixtures.answer_databases",
]

# CI replays the same examples every run (a failure there is reproducible); elsewhere
# hypothesis explores new ones each time.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True)
    settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    import pytest

    unit = os.path.join(ROOT, "tests", "unit") + os.sep
    for item in items:
        if str(item.path).startswith(unit) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.fast)
