"""A reply of the gateway: an HTTP-like status and a JSON body, whatever the protocol on top.

The scripts answer in JSON with a stable `code` on failure; the status for a code is the
`http_status` of its error class in skills/errors.py, so the mapping is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skills import errors

CODE_STATUS = {cls.code: cls.http_status for cls in errors.error_classes()}


@dataclass
class Reply:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


def error_reply(error: errors.OrchestratorError) -> Reply:
    """The reply for an error of the family: its class's HTTP status, its JSON and its headers."""
    return Reply(error.http_status, error.to_json(), dict(error.headers))


def status_for(answer) -> int:
    """200 for an answer, the error class's HTTP status for an error object."""
    if isinstance(answer, dict) and "code" in answer and ("error" in answer or answer.get("success") is False):
        return CODE_STATUS.get(answer["code"], 500)
    return 200
