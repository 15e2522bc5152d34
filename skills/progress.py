"""Progress events of one script run: the steps a streamed request shows while it runs.

The code doing the work says what happened (`emit("tool_started", {"name": ..., "arguments": ...})`);
where it goes is the caller's business. Nothing is sent unless someone listens: the `--jsonl`
worker listens for one request when its line carries `"_events": true` (skills/cli.py), and then
prints each event as its own line before the result line, which skills/gateway/workers.py reads
and hands to the server (SSE, WebSocket, MCP progress). A run nobody watches pays one attribute
lookup per step, and its output stays byte for byte what it was.

Event names and fields are fixed in docs/http-api.md ("Live progress and history").
"""

from __future__ import annotations

import threading
from collections.abc import Callable

EVENTS_FIELD = "_events"  # the request field that asks a script for events
EVENT_KEY = "_event"  # an event line is {"_event": name, "data": {...}}; a result never has this key

Sink = Callable[[str, dict], None]

_listener = threading.local()  # per thread: a run's steps happen on the thread that runs it


def emit(event: str, data: dict) -> None:
    """Tell whoever listens to this run that `event` happened; a no-op when nobody does."""
    sink = getattr(_listener, "sink", None)
    if sink is not None:
        sink(event, data)


def listening() -> bool:
    """Does anyone listen? (The Claude loop uses the SDK's streaming call only when someone does.)"""
    return getattr(_listener, "sink", None) is not None


class sending_to:  # lower case: it reads as a function, `with sending_to(sink): ...`
    """Deliver this thread's events to `sink` until the block ends (blocks nest)."""

    def __init__(self, sink: Sink):
        self.sink = sink
        self._previous: Sink | None = None

    def __enter__(self) -> None:
        self._previous = getattr(_listener, "sink", None)
        _listener.sink = self.sink

    def __exit__(self, *exc_info) -> None:
        _listener.sink = self._previous


def event_line(event: str, data: dict) -> dict:
    """The JSON object a script prints for one event."""
    return {EVENT_KEY: event, "data": data}
