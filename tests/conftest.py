"""Shared test set-up. Real services are started by the fixture plugins below, once per session."""

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
]

# CI replays the same examples every run (a failure there is reproducible); elsewhere
# hypothesis explores new ones each time.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True)
    settings.load_profile("ci")
