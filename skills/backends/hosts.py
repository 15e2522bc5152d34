"""The servers vps-monitor may inspect, by name, from the servers file (settings.servers_file).

A user (or the model) only ever names a server; host, port, user and key come from this
file, so no free host name from a request ever reaches the SSH layer. Validation errors
name the server and the field, and say how to fix the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from skills import lazy
from skills.errors import AgentNotConfigured, NotFound

LOCAL_FIELDS = {"local", "description"}
REMOTE_FIELDS = {"host", "port", "user", "key_file", "description"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9._:-]{1,253}$")
_USER = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$")


@dataclass(frozen=True)
class Server:
    name: str
    local: bool
    host: str = ""
    port: int = 22
    user: str = ""
    key_file: str = ""  # already ~-expanded
    description: str = ""


def load_servers(settings) -> dict[str, Server]:
    """Read and validate every entry of the servers file."""
    from skills.file_cache import read_when_changed

    path = settings.servers_file
    raw = read_when_changed(path, _read_yaml)  # a warm worker reads it every run: parsed once per change
    entries = raw.get("servers") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise AgentNotConfigured(
            f"{path} must have a 'servers:' mapping of name -> settings (see registry/servers.yaml)",
            field="servers",
        )
    return {str(name): _parse_entry(path, str(name), entry) for name, entry in entries.items()}


def get_server(settings, name: str) -> Server:
    """The configured server called `name`; an unknown name is NotFound, listing the closest ones."""
    servers = load_servers(settings)
    if name not in servers:
        raise NotFound(
            "server",
            name,
            closest_names(name, list(servers)),
            field="server",
            hint=f"only configured servers are monitored: add {name!r} to {settings.servers_file} to watch it",
        )
    return servers[name]


def closest_names(name: str, names: list[str], limit: int = 5) -> list[str]:
    """The names most like `name` first, then the others, at most `limit`."""
    import difflib

    close = difflib.get_close_matches(name.lower(), [n.lower() for n in names], n=limit, cutoff=0.5)
    by_lower = {n.lower(): n for n in names}
    ordered = [by_lower[c] for c in close] + sorted(n for n in names if n.lower() not in close)
    return ordered[:limit]


def _read_yaml(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return lazy.yaml.safe_load(handle)
    except FileNotFoundError:
        raise AgentNotConfigured(
            f"servers file {path} not found: create it (see registry/servers.yaml) or set ORCHESTRATOR_SERVERS",
            field="ORCHESTRATOR_SERVERS",
        ) from None
    except lazy.yaml.YAMLError as error:
        raise AgentNotConfigured(
            f"servers file {path} is not valid YAML: {error}", field="ORCHESTRATOR_SERVERS"
        ) from None


def _fail(path: str, name: str, field: str | None, problem: str) -> AgentNotConfigured:
    where = f"server {name!r}" + (f" field {field!r}" if field else "")
    return AgentNotConfigured(f"{path}: {where} {problem}", field=f"servers.{name}" + (f".{field}" if field else ""))


def _parse_entry(path: str, name: str, entry) -> Server:
    if not _NAME.match(name):
        raise _fail(path, name, None, "has a bad name: use letters, digits and ._- (up to 64 characters)")
    if not isinstance(entry, dict):
        raise _fail(
            path, name, None, "must be a mapping such as {local: true} or {host: ..., user: ..., key_file: ...}"
        )
    description = str(entry.get("description") or "")
    if entry.get("local") is not None:
        if entry.get("local") is not True:
            raise _fail(path, name, "local", "must be true (or left out for an SSH server)")
        _reject_unknown(path, name, entry, LOCAL_FIELDS)
        return Server(name, True, description=description)
    _reject_unknown(path, name, entry, REMOTE_FIELDS)
    host = _required_text(path, name, entry, "host", _HOST)
    user = _required_text(path, name, entry, "user", _USER)
    key_file = os.path.expanduser(_required_text(path, name, entry, "key_file", None))
    port = entry.get("port", 22)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise _fail(path, name, "port", f"must be a whole number from 1 to 65535, got {port!r}")
    return Server(name, False, host, port, user, key_file, description)


def _reject_unknown(path: str, name: str, entry: dict, allowed: set[str]) -> None:
    unknown = sorted(set(map(str, entry)) - allowed)
    if unknown:
        hint = " (passwords are not supported: use key_file)" if "password" in unknown else ""
        raise _fail(path, name, unknown[0], f"is not a known field; allowed: {', '.join(sorted(allowed))}{hint}")


def _required_text(path: str, name: str, entry: dict, field: str, pattern: re.Pattern | None) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, name, field, "is required for an SSH server and must be text")
    value = value.strip()
    if pattern is not None and not pattern.match(value):
        raise _fail(path, name, field, f"has characters that are not allowed: {value!r}")
    return value
