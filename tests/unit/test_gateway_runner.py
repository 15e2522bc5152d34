"""The gateway's Runner interface: the warm pool and the one-shot runner take the same calls with the
same parameters, so Service can hold either and the HTTP, MCP and worker code never ask which."""

from __future__ import annotations

import inspect

import pytest

from skills.gateway.workers import OneShotRunner, Runner, WorkerPool

METHODS = ("call", "live", "retire_idle", "close")


def _parameters(cls: type, method: str) -> list[tuple[str, object]]:
    signature = inspect.signature(getattr(cls, method))
    return [(p.name, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize("runner", [WorkerPool, OneShotRunner], ids=["pool", "one-shot"])
@pytest.mark.parametrize("method", METHODS)
def test_each_runner_takes_the_interfaces_parameters(runner, method):
    assert _parameters(runner, method) == _parameters(Runner, method)
