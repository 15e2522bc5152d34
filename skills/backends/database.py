"""Read-only PostgreSQL access for the neon-database, contractor and project agents.

The database enforces what skills/backends/sql_guard.py checks, so neither stands alone:

- every connection starts read-only at *session* level (`options=-c default_transaction_read_only=on
  -c statement_timeout=... -c lock_timeout=... -c standard_conforming_strings=on`), and since the
  guard lets only SELECT trees through (no SET, no set_config), a statement cannot lift them;
- each query runs inside a READ ONLY, REPEATABLE READ transaction (a tool's several queries see one
  snapshot) that is always rolled back;
- the role behind the URL is checked once per process per URL (skills/backends/database_role.py):
  a superuser, a role that can write a table or read the server's files is refused.

Limits come from Settings: `sql_statement_timeout_ms` (shortened to the tool's deadline),
`sql_row_cap` and, for free SQL, `sql_result_bytes` (`truncated` says more existed); free SQL
streams through a server-side cursor in small batches, so a huge result is never held.

Failures become skills.errors types, and no message ever carries the URL's password.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Self

import psycopg2
from psycopg2.extensions import parse_dsn

from skills.backends.database_role import check_role
from skills.backends.sql_guard import check_sql  # light: pglast loads only when a check runs
from skills.errors import (
    AgentNotConfigured,
    BadInput,
    ExecutionTimeout,
    OrchestratorError,
    ToolRefused,
    UpstreamUnavailable,
)
from skills.redaction import mask_urls, url_userinfo

CONNECT_TIMEOUT_S = 5
APPLICATION_NAME = "fibreflow-orchestrator"
NOT_CONFIGURED = (
    "NEON_DATABASE_URL is not set: set it in .env (or DATABASE_URL), or start the demo database with "
    "`bin/demo_database start`"
)


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[dict]
    truncated: bool = False
    byte_limited: bool = False  # truncated by ORCHESTRATOR_SQL_RESULT_BYTES rather than the row cap

    def to_json(self) -> dict:
        body = {"columns": self.columns, "rows": self.rows, "row_count": len(self.rows), "truncated": self.truncated}
        if self.byte_limited:
            body["truncated_by"] = "bytes"
        return body


# -- values and messages ---------------------------------------------------------------------------


def jsonable(value):
    """A database value as plain JSON: numbers, strings, lists, dicts, None."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and value.as_tuple().exponent >= 0:
            return int(value)
        return float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return str(value)


_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(message: str, url: str | None = None) -> str:
    """`message` without the password of `url` (or any URL/`password=` credential in it)."""
    for password in _passwords_of(url) if url else []:
        message = message.replace(password, "***")
    return _KEYWORD_PASSWORD.sub(r"\1***", mask_urls(message))


def _passwords_of(url: str) -> list[str]:
    """The password as libpq reads it and as a person wrote it (they differ when it holds a raw `@`)."""
    written = url_userinfo(url)[1] or ""
    found = [written, *written.split("@")[1:]]  # libpq reads the pieces after a raw '@' as the host
    with contextlib.suppress(psycopg2.ProgrammingError):  # malformed: the written form is all there is
        found.append(parse_dsn(url).get("password"))
    return sorted({p for p in found if p}, key=len, reverse=True)


def describe_target(url: str) -> str:
    """user@host:port/dbname for messages (never the password)."""
    try:
        parts = parse_dsn(url)
    except psycopg2.ProgrammingError:  # its message quotes the DSN, password and all
        return "(unparseable URL)"
    host = parts.get("host", "localhost")
    return f"{parts.get('user', '?')}@{host}:{parts.get('port', '5432')}/{parts.get('dbname', '?')}"


def _first_line(error: Exception) -> str:
    diag = getattr(error, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


# -- errors ------------------------------------------------------------------------------------


def translate(error: Exception, *, url: str, timeout_ms: int, user_sql: bool) -> OrchestratorError:
    """A psycopg2 error as the skills.errors type a caller can act on."""
    from psycopg2 import errors as pg

    message = redact(_first_line(error), url)
    code = getattr(error, "pgcode", None) or ""
    if isinstance(error, (pg.ReadOnlySqlTransaction, pg.InsufficientPrivilege)):
        return ToolRefused(f"the database refused to change anything: queries are read-only ({message})", field="sql")
    if isinstance(error, (pg.QueryCanceled, pg.LockNotAvailable)):
        return ExecutionTimeout(
            f"the query was cancelled after {timeout_ms} ms (ORCHESTRATOR_SQL_TIMEOUT_MS): "
            "narrow it with WHERE or LIMIT, or raise the limit"
        )
    if not user_sql and isinstance(error, (pg.UndefinedTable, pg.UndefinedColumn)):
        return AgentNotConfigured(
            f"the database at {describe_target(url)} does not have FibreFlow's tables "
            f"({message}): point NEON_DATABASE_URL at FibreFlow's database or run "
            "`bin/demo_database start`",
            field="database",
        )
    if code[:2] in ("42", "22", "0A", "21", "2B", "44", "34", "26"):
        return BadInput(f"PostgreSQL rejected the query: {message}", field="sql" if user_sql else None)
    if isinstance(error, psycopg2.OperationalError) or not code:
        return UpstreamUnavailable(f"PostgreSQL at {describe_target(url)} failed: {message}")
    return UpstreamUnavailable(f"PostgreSQL error {code}: {message}")


# -- the session -------------------------------------------------------------------------------


def _timeout_ms(settings, deadline: float | None) -> int:
    limit = settings.sql_statement_timeout_ms
    if deadline is None:
        return limit
    left = int((deadline - time.monotonic()) * 1000)
    if left <= 0:
        raise ExecutionTimeout("the tool's time ran out before the query could start")
    return max(1, min(limit, left))


def session_options(timeout_ms: int) -> str:
    """Startup parameters no SELECT can undo: read-only by default, timeouts, and strings read as the guard read them.

    standard_conforming_strings=on because the guard (libpg_query) parses with it on; a server
    configured off would read `\\'` differently from the check.
    """
    return (
        "-c default_transaction_read_only=on "
        f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms} "
        "-c standard_conforming_strings=on"
    )


def _refuse_malformed(url: str) -> None:
    try:
        parse_dsn(url)
    except psycopg2.ProgrammingError:
        raise AgentNotConfigured(
            "the database URL is not a valid PostgreSQL URL: expected postgresql://user:password@host:port/dbname",
            field="database",
        ) from None
    password = url_userinfo(url)[1] if "://" in url else None
    if password and "@" in password:  # libpq would take the tail for the host and quote it in its error
        raise AgentNotConfigured(
            "the password in the database URL holds a raw '@': percent-encode it as %40 "
            "(postgresql://user:p%40ss@host/dbname)",
            field="database",
        )


def connect(settings, *, deadline: float | None = None, timeout_ms: int | None = None):
    """A read-only psycopg2 connection with a checked role; errors never show the password."""
    url = settings.effective_database_url()
    if not url:
        url_env = getattr(settings, "database_url_env", "NEON_DATABASE_URL")
        message = (
            NOT_CONFIGURED if url_env == "NEON_DATABASE_URL" else NOT_CONFIGURED.replace("NEON_DATABASE_URL", url_env)
        )
        raise AgentNotConfigured(message, field="database")
    timeout = (
        CONNECT_TIMEOUT_S if deadline is None else max(1, min(CONNECT_TIMEOUT_S, int(deadline - time.monotonic())))
    )
    _refuse_malformed(url)
    options = session_options(timeout_ms or settings.sql_statement_timeout_ms)
    try:
        connection = psycopg2.connect(url, connect_timeout=timeout, application_name=APPLICATION_NAME, options=options)
    except psycopg2.Error as error:
        raise UpstreamUnavailable(
            f"cannot connect to PostgreSQL at {describe_target(url)}: {redact(_first_line(error), url)}; "
            f"check {getattr(settings, 'database_url_env', 'NEON_DATABASE_URL')}, or start the demo database with `bin/demo_database start`"
        ) from None
    try:
        check_role(connection, url, allow_privileged=settings.allow_privileged_database)
        connection.rollback()  # the check's transaction; the session's own starts clean
    except psycopg2.Error as error:
        connection.close()
        raise translate(error, url=url, timeout_ms=timeout_ms or 0, user_sql=False) from None
    except BaseException:
        connection.close()
        raise
    return connection


@dataclass
class ReadOnlySession:
    """One connection and one READ ONLY transaction, rolled back and closed on exit.

    with ReadOnlySession(settings, deadline=ctx.deadline) as db:
        result = db.query("SELECT ... WHERE status = %s", ("active",))
    """

    settings: object
    deadline: float | None = None
    timeout_ms: int = 0
    _connection: object = field(default=None, repr=False)

    def __enter__(self) -> Self:
        self.timeout_ms = _timeout_ms(self.settings, self.deadline)
        self._connection = connect(self.settings, deadline=self.deadline, timeout_ms=self.timeout_ms)
        try:
            with self._connection.cursor() as cursor:  # psycopg2 opens the transaction (BEGIN) here
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except psycopg2.Error as error:
            self.__exit__(None, None, None)
            raise self._translate(error, user_sql=False) from None
        return self

    def __exit__(self, *exc) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg2.Error):  # the connection may be gone; closing is all that is left
                self._connection.rollback()
            self._connection.close()
            self._connection = None

    def cursor(self):
        """A plain cursor inside this session's read-only transaction, for a reader that walks the
        catalogue itself (skills/answers/schema.py) or renders a statement (`mogrify`); close it after."""
        return self._connection.cursor()

    def mogrify(self, statement, params=None) -> str:
        """The statement with its parameters inline, as PostgreSQL would receive it (shown, never run)."""
        with self._connection.cursor() as cursor:
            return cursor.mogrify(statement, params).decode("utf-8", "replace")

    def _translate(self, error: psycopg2.Error, *, user_sql: bool) -> OrchestratorError:
        return translate(
            error, url=self.settings.effective_database_url() or "", timeout_ms=self.timeout_ms, user_sql=user_sql
        )

    def query(
        self,
        statement,
        params=None,
        *,
        cap: int | None = None,
        stream: bool = False,
        user_sql: bool = False,
        byte_cap: int | None = None,
    ) -> QueryResult:
        """Rows of one statement (str or psycopg2.sql.Composable), at most `cap` of them.

        stream: run it through a server-side cursor (only for a SELECT), fetched in small batches so
        rows beyond the caps are never sent. byte_cap: stop before the row that would take the
        result's JSON past this many bytes. user_sql: the text came from a person or model, so
        errors in it are BadInput on field `sql`.
        """
        cap = self.settings.sql_row_cap if cap is None else cap
        try:
            cursor = self._connection.cursor(name="fibreflow_query") if stream else self._connection.cursor()
            try:
                cursor.execute(statement, params)
                if cursor.description is None and not stream:
                    return QueryResult([], [], False)
                return _collect(cursor, cap, byte_cap)
            finally:
                cursor.close()
        except psycopg2.Error as error:
            raise self._translate(error, user_sql=user_sql) from None


FIRST_BATCH = 8  # rows; doubles while rows are small, shrinks to what the byte budget has room for


def _collect(cursor, cap: int, byte_cap: int | None) -> QueryResult:
    """Rows in batches until `cap` rows or `byte_cap` bytes of JSON, so memory stays near the caps."""
    rows: list[dict] = []
    columns: list[str] | None = None
    used, batch = 0, FIRST_BATCH
    while True:
        fetched = cursor.fetchmany(max(1, min(batch, cap + 1 - len(rows))))
        if columns is None:
            columns = _unique([column.name for column in cursor.description])
        if not fetched:
            return QueryResult(columns, rows, False)
        for values in fetched:
            if len(rows) == cap:
                return QueryResult(columns, rows, True)
            row = dict(zip(columns, (jsonable(v) for v in values)))
            size = len(json.dumps(row, default=str)) + 1
            if byte_cap is not None and used + size > byte_cap:
                return QueryResult(columns, rows, True, byte_limited=True)
            rows.append(row)
            used += size
        average = used // max(1, len(rows))
        room = (byte_cap - used) // max(1, average) + 1 if byte_cap is not None else batch * 2
        batch = max(1, min(batch * 2, room))


def _unique(names: list[str]) -> list[str]:
    """Column names made distinct (`select 1, 2` names both ?column?), so rows can be dicts."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return result


def run_sql(settings, text: str, *, deadline: float | None = None) -> QueryResult:
    """Free SQL from a person or the model: checked (one read-only statement), then run read-only."""
    checked = check_sql(text)
    with ReadOnlySession(settings, deadline=deadline) as db:  # the deparsed statement, never `text`
        return db.query(checked.text, stream=checked.streamable, user_sql=True, byte_cap=settings.sql_result_bytes)
