"""Build work run in a forked child, for a second core: never on a route's path.

A 10,000-agent index takes seconds to build and write, and parts of it do not depend on each
other (the trigger tables and the example model; encoding finished tables and calibrating).
`start(work)` runs `work()` in a forked child and returns `result()`, which waits for it. The
value crosses back as marshal (plain values only) through an unlinked temporary file, so the
child never waits for this process. Where forking is unsafe (threads) or the child fails,
`result()` runs `work()` here: the same value, only later. So a caller never depends on the
child, which it always reaps.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Callable


def can_fork() -> bool:
    """Forking keeps only the calling thread: not in a process that runs others."""
    threading = sys.modules.get("threading")
    return hasattr(os, "fork") and (threading is None or threading.active_count() <= 1)


def start(work: Callable[[], object]) -> Callable[[], object]:
    """`work()` under way in a child; call the returned function for its value."""
    import tempfile

    if not can_fork():
        return work
    try:
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by result()
        child = os.fork()
    except OSError:
        return work
    if child == 0:
        status = 1
        try:
            spool.write(marshal.dumps(work()))
            spool.flush()
            status = 0
        finally:
            os._exit(status)  # no atexit handlers, no flushing the parent's buffered output

    def result() -> object:
        with spool:
            _, status = os.waitpid(child, 0)
            if status == 0:
                spool.seek(0)
                try:
                    return marshal.loads(spool.read())
                except (EOFError, ValueError, TypeError):
                    pass
        return work()

    return result
