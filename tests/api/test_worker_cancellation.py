"""Cancelling a script call from another thread (what the MCP server does when a client cancels):
the worker and everything it started are killed, the call raises Cancelled, and the pool carries on."""

from __future__ import annotations

import os
import threading

import pytest

from skills.gateway.workers import Cancellation, Cancelled, OneShotRunner, WorkerPool
from tests.fixtures.http_server import fake_bin_dir
from tests.fixtures.processes import wait_for

# A stand-in execute_agent that starts a child (as an agent starts ssh), records both pids, then hangs.
SLOW_EXECUTE = """
def answer(request):
    import subprocess
    child = subprocess.Popen(["sleep", "60"])
    with open(request["pids"], "w") as handle:
        handle.write(f"{os.getpid()} {child.pid}")
    if request.get("quick"):
        child.kill()
        return {"success": True}
    hang()
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def recorded_pids(path: str) -> list[int]:
    try:
        with open(path, encoding="ascii") as handle:
            return [int(pid) for pid in handle.read().split()]
    except OSError:
        return []


@pytest.fixture
def script_path(tmp_path) -> str:
    return os.path.join(fake_bin_dir(str(tmp_path / "bin"), execute_agent=SLOW_EXECUTE), "execute_agent")


@pytest.mark.parametrize("kind", ["warm worker", "one process per request"])
def test_cancel_kills_the_run_and_its_children(tmp_path, script_path, kind):
    runner = (
        WorkerPool("execute_agent", script_path, size=1)
        if kind == "warm worker"
        else OneShotRunner("execute_agent", script_path)
    )
    pids_file = str(tmp_path / "pids")
    cancel, outcome = Cancellation(), {}

    def call():
        try:
            outcome["answer"] = runner.call({"pids": pids_file}, 60, cancel)
        except Cancelled as exc:
            outcome["cancelled"] = exc

    thread = threading.Thread(target=call)
    thread.start()
    try:
        assert wait_for(lambda: len(recorded_pids(pids_file)) == 2)
        worker, child = recorded_pids(pids_file)
        assert alive(worker) and alive(child)
        cancel.cancel()
        thread.join(timeout=20)
        assert not thread.is_alive() and "cancelled" in outcome
        assert wait_for(lambda: not alive(worker) and not alive(child))  # no orphan: the child went with it
        os.remove(pids_file)
        assert runner.call({"pids": pids_file, "quick": True}, 60) == {"success": True}  # a fresh process serves
    finally:
        runner.close()


def test_a_call_cancelled_before_it_starts_never_runs(tmp_path, script_path):
    runner = WorkerPool("execute_agent", script_path, size=1)
    cancel = Cancellation()
    cancel.cancel()
    try:
        with pytest.raises(Cancelled):
            runner.call({"pids": str(tmp_path / "pids"), "quick": True}, 60, cancel)
    finally:
        runner.close()
    assert not os.path.exists(tmp_path / "pids")
