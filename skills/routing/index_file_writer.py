"""Writing the routing index file whose layout skills/routing/index_file.py describes and reads.

Only an index build writes (skills/registry/loader.py, the benchmarks), so this code stays off a
route's path: a route_task process loads store.py, never this module.
"""

import itertools
import marshal
import os

from skills.routing.index_file import AGENT_IDS, MAGIC, agent_positions

KEYS_PER_BUCKET = 4


def _bucket_count(size: int) -> int:
    return (size // KEYS_PER_BUCKET) | 1  # odd, so the byte-polynomial hash spreads well


def _is_table(name: str, value) -> bool:
    return name != "header" and isinstance(value, dict) and all(type(key) is str for key in value)


class _Data:
    """The data section being written: blobs appended, offsets relative to its start."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, blob: bytes) -> int:
        position = self.size
        self.parts.append(blob)
        self.size += len(blob)
        return position

    def add_blobs(self, blobs: list[bytes]) -> int:
        """The blobs back to back, then their n+1 offsets (8 bytes each); returns where the offsets are."""
        return self.add_joined(b"".join(blobs), list(map(len, blobs)))

    def add_joined(self, joined: bytes, sizes: list[int]) -> int:
        """As add_blobs, for blobs already joined (`sizes`: each one's length)."""
        offsets = list(itertools.accumulate(sizes, initial=self.add(joined)))
        return self.add(b"".join(map(int.to_bytes, offsets, itertools.repeat(8), itertools.repeat("little"))))


def _table_blobs(table: dict) -> tuple[int, list[bytes]]:
    buckets = _bucket_count(len(table))
    split: list[dict] = [{} for _ in range(buckets)]
    # the bucket of a key, as LazyTable computes it (in C: a big table has 100,000s of keys)
    numbers = map(buckets.__rmod__, map(int.from_bytes, map(str.encode, table), itertools.repeat("little")))
    for number, key, value in zip(numbers, table, table.values()):
        split[number][key] = value
    return buckets, [marshal.dumps(bucket) if bucket else b"" for bucket in split]


def _encoded_table(table: dict) -> tuple[int, bytes, list[int]]:
    """(buckets, the bucket blobs joined, each blob's size): a table as the data section holds it."""
    buckets, blobs = _table_blobs(table)
    return buckets, b"".join(blobs), list(map(len, blobs))


def encode(registry: dict, key, encoded: dict | None = None) -> bytes:
    """The index file's bytes for a built registry (plain values, as build_registry returns);
    `encoded`: tables already encoded (ParallelWriter), by name."""
    data = _Data()
    eager, tables = {}, {}
    for name, value in registry["index"].items():
        if _is_table(name, value):
            buckets, joined, sizes = (encoded or {}).get(name) or _encoded_table(value)
            tables[name] = (buckets, data.add_joined(joined, sizes))
        else:
            eager[name] = value
    agents = registry["agents"]
    ids_buckets, ids_blobs = _table_blobs(agent_positions(agents))
    header = {
        "key": key,
        "registry": {name: value for name, value in registry.items() if name not in ("agents", "index")},
        "eager": eager,
        "tables": tables,
        "agents": (len(agents), data.add_blobs([marshal.dumps(agent) for agent in agents])),
        AGENT_IDS: (ids_buckets, data.add_blobs(ids_blobs)),
        "data_size": data.size,
    }
    head = marshal.dumps(header)
    return b"".join([MAGIC, len(head).to_bytes(8, "little"), head, *data.parts])


def _tables_encoded(index: dict) -> tuple[dict, dict]:
    """(index, {name: encoded table} for each of its tables)."""
    return index, {name: _encoded_table(value) for name, value in index.items() if _is_table(name, value)}


class ParallelWriter:
    """Encodes index tables on a second core while the index is still being built: hand `start`
    and `tables_done` to build_index (skills/routing/index.py), then `encoded()` to `write`.

    Tables built by `start`'s work are encoded in the same child; at `tables_done` another child
    takes the biggest tables not encoded yet (about half their keys), and this process encodes
    the rest in `write` once calibration is done. Without fork (threads) it all runs here."""

    def __init__(self) -> None:
        self._encoded: dict = {}
        self._pending = dict

    def start(self, work):
        """`in_background` for build_index: `work()` (a dict of tables) in a child, its tables encoded there too."""
        from skills.routing import forked

        result = forked.start(lambda: _tables_encoded(work()))

        def value():
            built, encoded = result()
            self._encoded.update(encoded)
            return built

        return value

    def tables_done(self, index: dict) -> None:
        from skills.routing import forked

        sizes = {name: len(value) for name, value in index.items() if _is_table(name, value)}
        pending = sorted((name for name in sizes if name not in self._encoded), key=lambda name: -sizes[name])
        names, keys = [], 0
        for name in pending:
            if names and keys + sizes[name] > sum(sizes[n] for n in pending) / 2:
                break
            names.append(name)
            keys += sizes[name]
        if names:
            self._pending = forked.start(lambda: {name: _encoded_table(index[name]) for name in names})

    def encoded(self) -> dict:
        """{name: encoded table} for `write` (the second child waited for)."""
        return {**self._encoded, **self._pending()}


def write(path: str, registry: dict, key, encoded: dict | None = None) -> bool:
    """Atomically write the index file; False when the directory is not writable (speed lost, not routes)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(encode(registry, key, encoded))
        os.replace(temporary, path)
    except OSError:
        return False
    return True
