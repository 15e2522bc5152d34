"""Server-sent events: a streamed execute or smart execute as `text/event-stream`.

A request with `Accept: text/event-stream` is authorised, rate-limited and validated like any
other (its refusals are ordinary JSON errors); then, instead of one JSON body, the steps of the
run go out as they happen (`routed`, `tool_started`, `tool_finished`, `text`) and the very JSON
the request would have answered ends the stream inside `done` (or `error`, for a 4xx/5xx), with
its status. Event names and fields: docs/http-api.md, "Live progress and history".
"""

from __future__ import annotations

import json

MEDIA_TYPE = "text/event-stream"


def wants_events(accept: str | None) -> bool:
    """Does the Accept header ask for an event stream? (`text/event-stream`, with or without parameters.)"""
    return any(part.split(";")[0].strip().lower() == MEDIA_TYPE for part in (accept or "").split(","))


def frame(event: str, data: dict) -> bytes:
    """One event in the wire format: `event:` and a single `data:` line of compact JSON, then a blank line."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # one line: JSON escapes every newline
    return f"event: {event}\ndata: {text}\n\n".encode("utf-8", "backslashreplace")


def final_event(status: int, body) -> bytes:
    """`done` for a 2xx answer, `error` otherwise; both carry the whole answer and its HTTP status."""
    return frame("done" if status < 400 else "error", {"http_status": status, "result": body})


class EventStream:
    """The response side of one streamed request, written on the handler's own connection.

    A client that goes away mid-run does not stop the run: the agent finishes and the ledger
    records it; the remaining events are dropped.
    """

    def __init__(self, wfile, headers: dict):
        self.wfile = wfile
        self.headers = headers
        self.gone = False

    def open(self, send_head) -> None:
        """Send the 200 and the headers now, so the client sees the stream start before the run does."""
        send_head(200, {**self.headers, "Content-Type": MEDIA_TYPE + "; charset=utf-8"})

    def send(self, event: str, data: dict) -> None:
        self._write(frame(event, data))

    def finish(self, status: int, body) -> None:
        self._write(final_event(status, body))

    def _write(self, data: bytes) -> None:
        if self.gone:
            return
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.gone = True
