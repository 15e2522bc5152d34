"""What one request does once: smart execute reads a task to settle routing between data agents,
then answers it; within `one_request()` both share the one reading per agent (and the queries that
compared an ambiguous question's readings). Standard library only, so a request that never reaches a
data agent pays nothing for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_READ: ContextVar[dict | None] = ContextVar("read_in_this_request", default=None)


@contextmanager
def one_request() -> Iterator[None]:
    """Within it, `read_in_this_request()` is one dict, {(agent id, question): (reading, schema)}."""
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def read_in_this_request() -> dict | None:
    """The readings made so far in this request; None outside `one_request()` (nothing is kept)."""
    return _READ.get()
