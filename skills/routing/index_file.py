"""The on-disk routing index: a registry a fresh process can route with without unpacking it.

A route needs the rows of a task's few words and the agents that have evidence, not the whole
index: at 10,000 agents unpacking everything costs seconds and hundreds of MB. So the built
registry is written as one file that is read piece by piece with `os.pread`:

    MAGIC (8 bytes) | header length (8) | header (marshal) | data

- the header holds the cache key, the registry's small values, every index value that is not
  a table (including `index["header"]`), and where each table and the agents lie in `data`;
- each TABLE (an index value that is a dict with str keys; route code only does `.get`, `[]`
  and `in` on it) is split into hash buckets, each bucket one marshal blob. A lookup reads one
  offset pair and one bucket: two small reads, whatever the table's size;
- the agents are one marshal blob each, read by position (`route()` touches only positions
  with evidence); iterating them (list_agents, find_agent) reads them all at once.

The bucket of a key is `int.from_bytes(key.encode()) % buckets`, a polynomial hash modulo an
odd number that needs no import (Python's own `hash()` changes per process). A file whose
magic, size or header does not check out is reported as unusable (None) so the caller
rebuilds it; a damaged piece met later removes the file and the route goes on with the
registry built afresh in memory (`rebuild`), so a bad file costs time, never a request.
This module reads; skills/routing/index_file_writer.py writes, at build time only, so a route
does not load the writing code. Standard library only: this is on every route's path.
"""

import marshal
import os

MAGIC = b"FFRIDX2\n"  # bump the digit when the layout changes
FIRST_READ = 65536  # one read usually covers the header (and the whole file for a small registry)
MAX_CACHED_BUCKETS = 8192  # per table, in a long-lived worker
AGENT_IDS = "agent_ids"  # internal table: agent id -> position, for find_agent


class _File:
    """An open index file: reads by absolute position, served from the first read when it covers them."""

    def __init__(self, path: str, fd: int, first: bytes, data_start: int, data_size: int, rebuild):
        self.path, self.fd, self.first, self.data_start, self.data_size = path, fd, first, data_start, data_size
        self.rebuild = rebuild
        self.replacement: dict | None = None

    def read(self, position: int, size: int) -> bytes:
        start = self.data_start + position
        if start + size <= len(self.first):
            return self.first[start : start + size]
        return os.pread(self.fd, size, start)

    def span(self, offsets_at: int, number: int) -> tuple[int, int]:
        """(start, end) of blob `number` in a blob list whose offsets are at `offsets_at`."""
        raw = self.read(offsets_at + 8 * number, 16)
        return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")

    def blob(self, offsets_at: int, number: int):
        """The decoded blob, or None when it cannot be decoded (see `recovered`)."""
        start, end = self.span(offsets_at, number)
        if not start <= end <= self.data_size:
            return None  # the offsets themselves are damaged
        if start == end:
            return {}
        try:
            return marshal.loads(self.read(start, end - start))
        except (EOFError, ValueError, TypeError):
            return None

    def recovered(self) -> dict:
        """The registry built in memory, once, after the file proved damaged (which is removed)."""
        if self.replacement is None:
            try:
                os.unlink(self.path)  # the next process rebuilds it
            except OSError:
                pass
            self.replacement = self.rebuild()
        return self.replacement

    def __del__(self) -> None:
        try:
            os.close(self.fd)
        except (OSError, AttributeError, TypeError):
            pass


class LazyTable:
    """A str-keyed index table read bucket by bucket: `.get`, `[]` and `in`, nothing else."""

    def __init__(self, file: _File, name: str, buckets: int, offsets_at: int):
        self._file, self._name, self._buckets, self._offsets_at = file, name, buckets, offsets_at
        self._cache: dict[int, dict] = {}

    def _bucket(self, key: str) -> dict:
        number = int.from_bytes(key.encode("utf-8"), "little") % self._buckets
        bucket = self._cache.get(number)
        if bucket is None:
            if self._file.replacement is not None:
                return self._recovered_table()
            bucket = self._file.blob(self._offsets_at, number)
            if type(bucket) is not dict:
                return self._recovered_table()
            if len(self._cache) >= MAX_CACHED_BUCKETS:
                self._cache.clear()
            self._cache[number] = bucket
        return bucket

    def _recovered_table(self) -> dict:
        replacement = self._file.recovered()
        return replacement["index"][self._name] if self._name != AGENT_IDS else agent_positions(replacement["agents"])

    def get(self, key, default=None):
        return self._bucket(key).get(key, default) if type(key) is str else default

    def __getitem__(self, key):
        if type(key) is not str:
            raise KeyError(key)
        return self._bucket(key)[key]

    def __contains__(self, key) -> bool:
        return type(key) is str and key in self._bucket(key)


class LazyAgents:
    """The agents by position, each read when first asked for; iterating reads them all."""

    def __init__(self, file: _File, count: int, offsets_at: int, ids: LazyTable):
        self._file, self._count, self._offsets_at, self._ids = file, count, offsets_at, ids
        self._loaded: dict[int, dict] = {}
        self._all: list[dict] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, position):
        try:
            return self._loaded[position]  # the hot path: route() asks for a few agents, some twice
        except (KeyError, TypeError):
            return self._load(position)

    def _load(self, position):
        if self._all is not None or isinstance(position, slice):
            return self._everything()[position]
        if position < 0:
            position += self._count
        if not 0 <= position < self._count:
            raise IndexError("agent position out of range")
        agent = self._file.blob(self._offsets_at, position) if self._file.replacement is None else None
        if type(agent) is not dict:
            return self._file.recovered()["agents"][position]
        self._loaded[position] = agent
        return agent

    def _everything(self) -> list[dict]:
        if self._all is None and self._file.replacement is not None:
            return self._file.recovered()["agents"]
        if self._all is None:
            raw = self._file.read(self._offsets_at, 8 * (self._count + 1))
            offsets = [int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8)]
            if offsets != sorted(offsets) or offsets[-1] > self._file.data_size:
                return self._file.recovered()["agents"]
            blobs = self._file.read(offsets[0], offsets[-1] - offsets[0])
            base = offsets[0]
            try:
                self._all = [
                    marshal.loads(blobs[offsets[i] - base : offsets[i + 1] - base]) for i in range(self._count)
                ]
            except (EOFError, ValueError, TypeError):
                return self._file.recovered()["agents"]
        return self._all

    def __iter__(self):
        return iter(self._everything())

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def position_of(self, agent_id: str) -> int | None:
        """The agent's position without reading the other agents."""
        return self._ids.get(agent_id)


def _read_header(fd: int) -> tuple[dict, bytes, int] | None:
    first = os.pread(fd, FIRST_READ, 0)
    if len(first) < 16 or first[:8] != MAGIC:
        return None
    head_size = int.from_bytes(first[8:16], "little")
    if 16 + head_size > len(first):
        first = first + os.pread(fd, 16 + head_size - len(first), len(first))
    try:
        header = marshal.loads(first[16 : 16 + head_size])
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(header, dict) or os.fstat(fd).st_size != 16 + head_size + header.get("data_size", -1):
        return None  # truncated or grown: not the file we wrote
    return header, first, 16 + head_size


def agent_positions(agents) -> dict:
    """agent id -> position: the AGENT_IDS table."""
    return {agent["id"]: position for position, agent in enumerate(agents)}


def open_registry(path: str, key, rebuild) -> dict | None:
    """The registry served from the index file at `path`, or None when it is missing, stale or unusable.

    `rebuild()` builds the registry in memory: used if a piece of the file proves damaged later.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        found = _read_header(fd)
    except (OSError, ValueError, TypeError):
        found = None
    if found is None or found[0].get("key") != key:
        os.close(fd)
        return None
    header, first, data_start = found
    file = _File(path, fd, first, data_start, header["data_size"], rebuild)  # closes fd when dropped
    try:
        index = dict(header["eager"])
        for name, (buckets, offsets_at) in header["tables"].items():
            index[name] = LazyTable(file, name, buckets, offsets_at)
        ids = LazyTable(file, AGENT_IDS, *header[AGENT_IDS])
        agents = LazyAgents(file, *header["agents"], ids)
        return {**header["registry"], "agents": agents, "index": index}
    except (KeyError, TypeError, ValueError):
        return None  # the header is not ours
