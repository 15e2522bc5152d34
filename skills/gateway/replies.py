"""A reply of the gateway: an HTTP-like status and a JSON body, whatever the protocol on top.

The scripts answer in JSON with a stable `code` on failure; the status for a code is the
`http_status` of its error class in skills/errors.py, so the mapping is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skills import errors


def _all_error_classes(cls=errors.OrchestratorError):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_error_classes(sub)


CODE_STATUS = {cls.code: cls.http_status for cls in _all_error_classes()}
# Codes the server adds, and smart execute's "several agents fit: choose one" (not an error class).
CODE_STATUS.update({"script_failed": 502, "overloaded": 503, "interrupted": 500, "ambiguous_task": 409})


@dataclass
class Reply:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


def status_for(answer) -> int:
    """200 for an answer, the error class's HTTP status for an error object."""
    if isinstance(answer, dict) and "code" in answer and ("error" in answer or answer.get("success") is False):
        return CODE_STATUS.get(answer["code"], 500)
    return 200
