"""Whether the role behind NEON_DATABASE_URL is safe to hand free SQL: checked once per process per URL.

The guard and the read-only session stop writes, but a superuser still reads `pg_authid` hashes
and the server's files, and a role that owns the tables is one missed check away from losing
them. So at connect the role's facts are read in one query (superuser? members of the roles that
read files, run programs or signal backends? tables it may INSERT/UPDATE/DELETE/TRUNCATE?) and
the connection is refused unless they are clean, with a message naming what to grant instead.
`ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE=1` lets such a role through, logged as a warning.

The facts are cached per URL (not the verdict), so a second Settings with another override in
the same process is still judged on its own.
"""

from __future__ import annotations

import logging
import threading

from skills.errors import DatabaseRoleUnsafe

DANGEROUS_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program", "pg_signal_backend")
ROLE_FACTS_QUERY = """
SELECT r.rolsuper,
       ARRAY(SELECT d FROM unnest(%s::text[]) AS d WHERE pg_has_role(current_user, d, 'MEMBER')),
       ARRAY(SELECT format('%%I.%%I', n.nspname, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p', 'v', 'f')
                AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
                AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
              ORDER BY 1 LIMIT 5),
       current_user
  FROM pg_roles r WHERE r.rolname = current_user
"""
GRANT_INSTEAD = (
    "connect as a login role that only reads, e.g. CREATE ROLE fibreflow_reader LOGIN PASSWORD '...'; "
    "GRANT USAGE ON SCHEMA public TO fibreflow_reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "
    "fibreflow_reader (docs/security.md), or set ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE=1 to accept the risk"
)

_facts: dict[str, tuple[bool, list[str], list[str], str]] = {}
_warned: set[str] = set()
_lock = threading.Lock()
log = logging.getLogger("skills.backends.database")


def problems_of(superuser: bool, members_of: list[str], writable: list[str]) -> list[str]:
    """What makes a role unsafe, in words; empty when it only reads."""
    found = []
    if superuser:
        found.append("is a superuser")
    if members_of:
        found.append(f"is a member of {', '.join(members_of)}")
    if writable:
        found.append(f"can write {', '.join(writable)}")
    return found


def check_role(connection, url: str, *, allow_privileged: bool) -> None:
    """Refuse `connection`'s role (DatabaseRoleUnsafe) unless it only reads or the override is set."""
    facts = _facts.get(url)
    if facts is None:
        with connection.cursor() as cursor:
            cursor.execute(ROLE_FACTS_QUERY, (list(DANGEROUS_ROLES),))
            superuser, members_of, writable, role = cursor.fetchone()
        facts = _facts[url] = (bool(superuser), list(members_of), list(writable), role)
    superuser, members_of, writable, role = facts
    problems = problems_of(superuser, members_of, writable)
    if not problems:
        return
    said = f"the database role {role!r} behind NEON_DATABASE_URL {' and '.join(problems)}"
    if not allow_privileged:
        raise DatabaseRoleUnsafe(f"{said}: {GRANT_INSTEAD}", field="database", details={"role": role})
    with _lock:
        if url in _warned:
            return
        _warned.add(url)
    log.warning("%s; used anyway because ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE is set", said)
