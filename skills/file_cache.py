"""Small files a warm worker reads on every run (model prices, the servers list), parsed again
only when they change: parsing YAML each time cost more CPU than the rest of a run's bookkeeping.

A file's identity is its inode, size and modification time. Two writes within one coarse mtime
tick that keep the size could go unseen; editing a config file by hand never does that.
"""

from __future__ import annotations

import os
import threading

_parsed: dict[tuple, tuple[tuple, object]] = {}  # (path, reader) -> (identity when read, value)
_lock = threading.Lock()


def identity(path: str) -> tuple:
    """(inode, size, mtime in ns) of `path`; OSError when it cannot be stat'ed."""
    status = os.stat(path)
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def read_when_changed(path: str, read):
    """`read(path)`, or the value it gave last time if the file has not changed since.

    A file that cannot be stat'ed is handed to `read` every time, so its own error (a missing
    file, say) reaches the caller as before. The value is shared: callers must not change it.
    """
    try:
        seen = identity(path)
    except OSError:
        return read(path)
    key = (path, read)
    with _lock:
        known = _parsed.get(key)
    if known and known[0] == seen:
        return known[1]
    value = read(path)
    with _lock:
        _parsed[key] = (seen, value)
    return value
