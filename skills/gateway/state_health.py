"""Is the state directory (ledger, async tasks, caches, usually the log) usable right now?

A full or read-only state directory must not cost anyone an answer (executions still return,
with a warning that they were not recorded), but /health has to say so, and why, so an operator
frees space or fixes the mount before history is lost.
"""

from __future__ import annotations

import os

MIN_FREE_BYTES = 1024 * 1024  # below this SQLite cannot be trusted to commit a row


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB"


def state_dir_report(path: str, store) -> dict:  # store: skills.store.Store, None when it cannot be opened
    """{"path", "writable", "free_bytes"} plus "error" (what is wrong and what to do) when not usable."""
    report: dict = {"path": path, "writable": True, "free_bytes": None}
    try:
        stats = os.statvfs(path)
    except OSError as error:
        return {**report, "writable": False, "error": f"cannot read the state directory: {error.strerror}"}
    report["free_bytes"] = stats.f_bavail * stats.f_frsize
    if stats.f_flag & os.ST_RDONLY:
        report["writable"] = False
        report["error"] = "the state directory is on a read-only file system: remount it read-write"
    elif report["free_bytes"] < MIN_FREE_BYTES:
        report["writable"] = False
        report["error"] = (
            f"the state directory has {_megabytes(report['free_bytes'])} free (under {_megabytes(MIN_FREE_BYTES)}): "
            "free space there, or executions go unrecorded and async tasks are refused"
        )
    elif store is None or not store.writable():
        report["writable"] = False
        report["error"] = "the ledger database cannot be written (locked or damaged): see the server's stderr"
    return report
