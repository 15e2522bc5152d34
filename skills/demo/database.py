"""A throw-away local PostgreSQL with FibreFlow's demo data, for demos and tests.

`start(settings)` creates (once) and starts a cluster with the system's initdb/pg_ctl, loads
registry/demo/schema.sql and the generated rows (skills/demo/data.py), and writes the agents'
connection URL to `settings.demo_database_url_file`, which `Settings.effective_database_url()`
reads. Layout under `<state_dir>/demo-postgres/`:

    url           the agents' URL (read-only role), mode 0600
    admin-url     the superuser's URL, for loading data only, mode 0600
    cluster.json  where the data directory is, the port, which OS user runs the server
    server/       data/ and postgres.log (when the server's user can reach this path)

Two roles: `fibreflow_admin` (superuser, loads data) and `fibreflow_reader` (LOGIN, SELECT on
the demo tables only, default_transaction_read_only=on), so the agents' URL cannot write even
if every other guard failed. Passwords are random per cluster; authentication is SCRAM over
TCP on 127.0.0.1 only (no unix socket, so no socket-path length or permission trouble).

PostgreSQL refuses to run as root. When we are root, initdb and pg_ctl run as the `postgres`
system user (else `nobody`) and the data directory belongs to that user; if that user cannot
traverse the state directory (e.g. under /root, or pytest's 0700 temp dirs) the server's files
go to /tmp/fibreflow-demo-postgres-<hash>/ instead, recorded in cluster.json.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import io
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import date

from skills.errors import AgentNotConfigured, UpstreamUnavailable

DATABASE = "fibreflow"
ADMIN_ROLE = "fibreflow_admin"
READER_ROLE = "fibreflow_reader"
START_TIMEOUT_S = 30
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    # a disposable demo: durability buys nothing and costs seconds on every load
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "log_min_messages": "warning",
}


@dataclass
class Cluster:
    base_dir: str  # <state_dir>/demo-postgres: URLs and cluster.json
    run_dir: str  # owned by the server's OS user: data/ and postgres.log
    bin_dir: str
    port: int
    run_as: str | None  # OS user the server runs as when we are root; None: ourselves

    @property
    def data_dir(self) -> str:
        return os.path.join(self.run_dir, "data")

    @property
    def log_file(self) -> str:
        return os.path.join(self.run_dir, "postgres.log")


# -- finding things ------------------------------------------------------------------------------


def find_bin_dir() -> str:
    """The directory holding initdb, pg_ctl and postgres (PATH first, then Debian's layout)."""
    on_path = shutil.which("pg_ctl")
    candidates = [os.path.dirname(os.path.realpath(on_path))] if on_path else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for directory in candidates + versions:
        if all(os.access(os.path.join(directory, name), os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise AgentNotConfigured(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found on PATH or under "
        "/usr/lib/postgresql/*/bin: install them with `apt-get install postgresql`, or set NEON_DATABASE_URL",
        field="database",
    )


def _version_key(path: str) -> tuple:
    version = path.split("/")[-2]
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def base_dir(settings) -> str:
    return os.path.dirname(settings.demo_database_url_file)


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None for ourselves, else an unprivileged system user (we are root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise AgentNotConfigured("running as root and there is no `postgres` or `nobody` user to run PostgreSQL as")


def _reachable(path: str, user: pwd.struct_passwd) -> bool:
    """Can `user` traverse every existing directory on the way to `path`?"""
    current = os.path.abspath(path)
    while True:
        if os.path.isdir(current):
            info = os.stat(current)
            if info.st_uid == user.pw_uid:
                allowed = info.st_mode & 0o100
            elif info.st_gid == user.pw_gid:
                allowed = info.st_mode & 0o010
            else:
                allowed = info.st_mode & 0o001
            if not allowed:
                return False
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def _choose_run_dir(base: str, user: pwd.struct_passwd | None) -> str:
    preferred = os.path.join(base, "server")
    if user is None or _reachable(base, user):
        return preferred
    digest = hashlib.sha256(os.path.abspath(base).encode()).hexdigest()[:12]
    return os.path.join("/tmp", f"fibreflow-demo-postgres-{digest}")


def _make_owned_dir(path: str, user: pwd.struct_passwd | None) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)
    if user is not None:
        info = os.lstat(path)
        if os.path.islink(path) or info.st_uid not in (0, user.pw_uid):
            raise AgentNotConfigured(f"{path} exists and belongs to another user: remove it and start again")
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, 0o700)


# -- running the server's programs ---------------------------------------------------------------


def _run(
    cluster: Cluster, program: str, *args: str, timeout: float = START_TIMEOUT_S + 10
) -> subprocess.CompletedProcess:
    """Run initdb/pg_ctl, as the server's OS user when we are root."""
    user = pwd.getpwnam(cluster.run_as) if cluster.run_as else None
    identity = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    env = {
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C",
        "LANG": "C",
        "HOME": user.pw_dir if user else os.path.expanduser("~"),
    }
    try:
        return subprocess.run(
            [os.path.join(cluster.bin_dir, program), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
            timeout=timeout,
            check=False,
            **identity,
        )
    except subprocess.TimeoutExpired:
        raise UpstreamUnavailable(f"{program} did not finish within {timeout:.0f} s; see {cluster.log_file}") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as PostgreSQL binds: connections it just closed (TIME_WAIT) must not move it to another port
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tail(path: str, lines: int = 5) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return " | ".join(line.strip() for line in handle.readlines()[-lines:])
    except OSError:
        return ""


def _initdb(cluster: Cluster, admin_password: str) -> None:
    user = pwd.getpwnam(cluster.run_as) if cluster.run_as else None
    password_file = os.path.join(cluster.run_dir, "initdb-password")
    with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(admin_password + "\n")
    if user:
        os.chown(password_file, user.pw_uid, user.pw_gid)
    try:
        done = _run(
            cluster,
            "initdb",
            "-D",
            cluster.data_dir,
            "-U",
            ADMIN_ROLE,
            f"--pwfile={password_file}",
            "--auth-host=scram-sha-256",
            "--auth-local=reject",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
    finally:
        os.unlink(password_file)
    if done.returncode != 0:
        raise UpstreamUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
    with open(os.path.join(cluster.data_dir, "postgresql.conf"), "a", encoding="utf-8") as conf:
        conf.write("\n# fibreflow demo (skills/demo/database.py)\n")
        conf.writelines(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())


def _pg_ctl_start(cluster: Cluster) -> None:
    done = _run(
        cluster,
        "pg_ctl",
        "start",
        "-D",
        cluster.data_dir,
        "-l",
        cluster.log_file,
        "-w",
        "-t",
        str(START_TIMEOUT_S),
        "-o",
        f"-p {cluster.port}",
    )
    if done.returncode != 0:
        detail = _tail(cluster.log_file) or done.stderr.strip()
        raise UpstreamUnavailable(f"PostgreSQL did not start on 127.0.0.1:{cluster.port}: {detail}")


def _server_pid(cluster: Cluster) -> int | None:
    """The postmaster's pid if its pid file names a live process."""
    try:
        with open(os.path.join(cluster.data_dir, "postmaster.pid"), encoding="utf-8") as handle:
            pid = int(handle.readline().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return pid


# -- URLs and cluster.json ---------------------------------------------------------------------


def _url(role: str, password: str, port: int) -> str:
    return f"postgresql://{role}:{password}@127.0.0.1:{port}/{DATABASE}"


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for output and messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def _write_secret(path: str, text: str) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def _read_secret(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _with_port(url: str, port: int) -> str:
    head, _, tail = url.rpartition(":")
    return f"{head}:{port}/{tail.split('/', 1)[1]}"


def _load_cluster(base: str) -> Cluster | None:
    try:
        with open(os.path.join(base, "cluster.json"), encoding="utf-8") as handle:
            return Cluster(**json.load(handle))
    except (OSError, ValueError, TypeError):
        return None


def _save_cluster(cluster: Cluster) -> None:
    with open(os.path.join(cluster.base_dir, "cluster.json"), "w", encoding="utf-8") as handle:
        json.dump(asdict(cluster), handle, indent=2)


# -- loading the demo schema and data --------------------------------------------------------


def _copy_text(rows: list[tuple]) -> io.StringIO:
    """Rows in COPY's text format (tab-separated, \\N for NULL)."""

    def field(value) -> str:
        if value is None:
            return r"\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        text = value.isoformat() if isinstance(value, date) else str(value)
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    return io.StringIO("".join("\t".join(field(v) for v in row) + "\n" for row in rows))


def load_demo_data(admin_url: str, as_of: date | None = None) -> dict[str, int]:
    """Replace the `public` schema with the demo schema and rows; returns row counts per table."""
    import psycopg2
    from psycopg2 import sql

    from skills.demo.data import SCHEMA_FILE, TABLES, generate

    rows = generate(as_of)
    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        schema = handle.read()
    connection = psycopg2.connect(admin_url, connect_timeout=10)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
            cursor.execute(schema)
            for table, columns in TABLES:
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                cursor.copy_expert(statement.as_string(cursor), _copy_text(rows[table]))
                if "id" in columns:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, max(1, len(rows[table])))
                    )
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,))
            if cursor.fetchone():  # absent when loading into a database this module did not create
                grant = "GRANT USAGE ON SCHEMA public TO {0}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {0}"
                cursor.execute(sql.SQL(grant).format(sql.Identifier(READER_ROLE)))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        connection.close()
    return {table: len(rows[table]) for table, _ in TABLES}


def _create_roles(admin_url: str, reader_password: str) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(admin_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=10)
    connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            reader = sql.Identifier(READER_ROLE)
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(reader), (reader_password,))
            cursor.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(reader))
            cursor.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE), sql.Identifier(ADMIN_ROLE))
            )
            cursor.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(DATABASE)))
    finally:
        connection.close()


# -- the commands ------------------------------------------------------------------------------


def status(settings) -> dict:
    base = base_dir(settings)
    cluster = _load_cluster(base)
    report = {"running": False, "url_file": settings.demo_database_url_file, "state_dir": base}
    if cluster is None:
        report["message"] = "no demo database here: run `bin/demo_database start`"
        return report
    pid = _server_pid(cluster)
    url = _read_secret(settings.demo_database_url_file)
    report.update(
        running=pid is not None,
        pid=pid,
        port=cluster.port,
        data_dir=cluster.data_dir,
        run_as=cluster.run_as,
        url=redact_url(url) if url else None,
    )
    if pid is None:
        report["message"] = "stopped: run `bin/demo_database start`"
    return report


@contextlib.contextmanager
def _locked(base: str):
    """One start/stop at a time per state dir (the README's demo and a test may race)."""
    with open(os.path.join(base, ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def start(settings, *, as_of: date | None = None) -> dict:
    """Create, start and load the demo database; a no-op (reported) when it is already running."""
    base = base_dir(settings)
    os.makedirs(base, mode=0o711, exist_ok=True)  # traversable: the server may live in server/ below
    with _locked(base):
        cluster = _load_cluster(base)
        running = bool(cluster and _server_pid(cluster))
        url_file = settings.demo_database_url_file
        if running and _read_secret(url_file):
            return {**status(settings), "action": "already_running"}
        if running:  # started but never finished loading (an interrupted start): build it again
            _pg_ctl_stop(cluster)
            return _create(settings, base, as_of)
        resumable = _read_secret(url_file) or _read_secret(url_file + ".stopped")
        if cluster and resumable and os.path.isfile(os.path.join(cluster.data_dir, "PG_VERSION")):
            return _restart(settings, cluster)
        return _create(settings, base, as_of)


def _pg_ctl_stop(cluster: Cluster) -> None:
    done = _run(cluster, "pg_ctl", "stop", "-D", cluster.data_dir, "-m", "fast", "-w", "-t", str(START_TIMEOUT_S))
    if done.returncode != 0:
        raise UpstreamUnavailable(f"pg_ctl stop failed: {done.stderr.strip()[-300:]}")


def _create(settings, base: str, as_of: date | None) -> dict:
    started = time.monotonic()
    user = _server_user()
    run_dir = _choose_run_dir(base, user)
    if os.path.exists(run_dir):
        shutil.rmtree(run_dir)  # a half-made cluster from an interrupted start
    cluster = Cluster(base, run_dir, find_bin_dir(), _free_port(), user.pw_name if user else None)
    _make_owned_dir(run_dir, user)
    admin_password, reader_password = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    _initdb(cluster, admin_password)
    _save_cluster(cluster)
    _pg_ctl_start(cluster)
    admin_url = _url(ADMIN_ROLE, admin_password, cluster.port)
    _create_roles(admin_url, reader_password)
    _write_secret(os.path.join(base, "admin-url"), admin_url)
    counts = load_demo_data(admin_url, as_of)
    _write_secret(settings.demo_database_url_file, _url(READER_ROLE, reader_password, cluster.port))
    report = status(settings)
    report.update(action="created", rows=counts, seconds=round(time.monotonic() - started, 2))
    return report


def _restart(settings, cluster: Cluster) -> dict:
    """Start an existing cluster again, on a new port if its old one was taken meanwhile."""
    if not _port_free(cluster.port):
        cluster.port = _free_port()
        _save_cluster(cluster)
    _pg_ctl_start(cluster)
    admin_path = os.path.join(cluster.base_dir, "admin-url")
    admin_url = _read_secret(admin_path)
    reader_url = _read_secret(settings.demo_database_url_file + ".stopped") or _read_secret(
        settings.demo_database_url_file
    )
    if not admin_url or not reader_url:
        raise AgentNotConfigured(
            f"the demo database's URL files in {cluster.base_dir} are missing: "
            "run `bin/demo_database stop --purge` and start again"
        )
    _write_secret(admin_path, _with_port(admin_url, cluster.port))
    _write_secret(settings.demo_database_url_file, _with_port(reader_url, cluster.port))
    _remove(settings.demo_database_url_file + ".stopped")
    return {**status(settings), "action": "started"}


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def stop(settings, *, purge: bool = False) -> dict:
    """Stop the server; its URL file moves aside so nothing points at a dead database.

    With purge, the cluster's files are deleted too (the next start builds a fresh one).
    """
    base = base_dir(settings)
    cluster = _load_cluster(base)
    if cluster is None:
        return {"running": False, "action": "not_created", "state_dir": base}
    action = "already_stopped"
    with _locked(base):
        if _server_pid(cluster):
            _pg_ctl_stop(cluster)
            action = "stopped"
        url_file = settings.demo_database_url_file
        if os.path.exists(url_file):
            os.replace(url_file, url_file + ".stopped")
    if purge:
        shutil.rmtree(cluster.run_dir, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
        action += "_and_purged"
    return {"running": False, "action": action, "state_dir": base}


def load(settings, *, as_of: date | None = None) -> dict:
    """Reload the demo schema and data into the running demo database (undoes any edits)."""
    base = base_dir(settings)
    cluster = _load_cluster(base)
    admin_url = _read_secret(os.path.join(base, "admin-url"))
    if cluster is None or admin_url is None or not _server_pid(cluster):
        raise AgentNotConfigured("the demo database is not running: run `bin/demo_database start` first")
    started = time.monotonic()
    counts = load_demo_data(admin_url, as_of)
    return {**status(settings), "action": "loaded", "rows": counts, "seconds": round(time.monotonic() - started, 2)}


def admin_url(settings) -> str | None:
    """The superuser URL of the running demo database (tests use it to set up and check)."""
    return _read_secret(os.path.join(base_dir(settings), "admin-url"))
