"""Heavy third-party modules, imported on first use: the one table of what loads late, and why.

A route_task process is timed against `python -c pass`, and each of these costs it milliseconds
of imports that most runs never need. Write `from skills import lazy` at the top of a module and
`lazy.yaml.safe_load(...)` where the module is used: the import happens at that first attribute
access (a module `__getattr__`, as openai-agents-python's `agents/mcp/__init__.py` does with its
`_LAZY_EXPORTS`). Everything else (`json`, `re`, `dataclasses`, our own modules) is imported
normally at the top of the module that uses it.
"""

import importlib
from types import ModuleType

_LAZY_MODULES = {
    "yaml": "yaml",  # the registry and servers files: only when the routing index must be rebuilt
    "registry_yaml": "skills.registry.yaml_values",  # our libyaml reader: it is yaml's import
    "dotenv": "dotenv",  # only when a .env file exists
    "anthropic": "anthropic",  # only when Claude is called (execution, the model fallback)
    "sdk_http": "httpx2",  # the HTTP library anthropic 2.x runs on: its errors, when a streamed answer breaks off
    "psycopg2": "psycopg2",  # only when a PostgreSQL database is read
    "psycopg2_sql": "psycopg2.sql",
    "psycopg2_errors": "psycopg2.errors",
    "psycopg2_extras": "psycopg2.extras",
    "paramiko": "paramiko",  # only when a host is reached over SSH
}


def __getattr__(name: str) -> ModuleType:
    """Import the module `name` stands for in the table, once; later lookups find it in globals()."""
    target = _LAZY_MODULES.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(target)
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY_MODULES])
