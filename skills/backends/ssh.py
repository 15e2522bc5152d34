"""Run FIXED, allow-listed read-only commands on a configured server, locally or over SSH.

Every metric is collected as text by a transport and parsed by one parser
(skills/backends/hostmetrics.py) shared by both:

- `LocalTransport` reads /proc files directly and runs fixed argv lists with subprocess
  (never a shell), with a fixed PATH and LC_ALL=C so output parses the same everywhere.
- `SSHTransport` uses paramiko's SSHClient.exec_command with a command string built from
  the same allow-list entry.

The only parameters (a service name) are validated strictly and shell-quoted; a command
name not in COMMANDS raises ToolRefused, so nothing from a user's text reaches a shell.

Host keys are checked against settings.ssh_known_hosts with a rejecting policy; only with
settings.ssh_trust_on_first_use is an UNKNOWN key accepted and saved. A CHANGED key is
always refused. Connect, banner, auth and each command are bounded by settings.ssh_timeout_s
(or the tool's deadline, if sooner). Key contents and passwords are never logged or shown.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass

from skills import lazy
from skills.errors import AgentNotConfigured, BadInput, ExecutionTimeout, ToolRefused, UpstreamUnavailable

SERVICE_NAME = re.compile(r"^[A-Za-z0-9@._-][A-Za-z0-9@._:-]{0,63}$")  # systemd unit name characters
MAX_OUTPUT_BYTES = 2_000_000
LOCAL_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


@dataclass(frozen=True)
class Command:
    """One allow-listed command: a file to read, or a fixed argv with `{param}` placeholders."""

    file: str | None = None
    files_glob: str | None = None  # a FIXED glob (no parameters), expanded by the remote shell
    argv: tuple[str, ...] = ()
    ok_status: frozenset[int] | None = frozenset({0})  # None: any exit status is an answer

    @property
    def params(self) -> set[str]:
        return {arg[1:-1] for arg in self.argv if arg.startswith("{") and arg.endswith("}")}


COMMANDS: dict[str, Command] = {
    "cpu_times": Command(file="/proc/stat"),
    "meminfo": Command(file="/proc/meminfo"),
    "loadavg": Command(file="/proc/loadavg"),
    "uptime": Command(file="/proc/uptime"),
    "cpuinfo": Command(file="/proc/cpuinfo"),
    "net_dev": Command(file="/proc/net/dev"),
    # Per-process CPU ticks; processes that exit mid-read make cat exit 1, the rest still count.
    "process_ticks": Command(files_glob="/proc/[0-9]*/stat", ok_status=frozenset({0, 1})),
    "hostname": Command(file="/proc/sys/kernel/hostname"),
    "os_release": Command(file="/etc/os-release"),
    "uname": Command(argv=("uname", "-snrm")),
    # df exits 1 when one mount is unreadable but still reports the others.
    "filesystems": Command(argv=("df", "-P", "-T", "-B1"), ok_status=frozenset({0, 1})),
    "processes": Command(argv=("ps", "-eo", "pid=,user=,pcpu=,pmem=,rss=,comm=")),
    # is-active exits 3 for an inactive unit; the text is the answer.
    "service_state": Command(argv=("systemctl", "is-active", "--", "{service}"), ok_status=None),
}


def validate_service(name: str) -> str:
    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        raise BadInput(
            f"service name {name!r} is not allowed: use 1-64 letters, digits or @._:- (for example nginx or docker)",
            field="service",
        )
    return name


VALIDATORS = {"service": validate_service}


def resolve(name: str, params: dict) -> tuple[Command, tuple[str, ...]]:
    """The allow-list entry and its argv with validated parameters filled in."""
    command = COMMANDS.get(name)
    if command is None:
        raise ToolRefused(f"command {name!r} is not on the allow-list; allowed: {', '.join(sorted(COMMANDS))}")
    if set(params) != command.params:
        raise ToolRefused(f"command {name!r} takes parameters {sorted(command.params)}, got {sorted(params)}")
    values = {key: VALIDATORS[key](value) for key, value in params.items()}
    return command, tuple(_fill(arg, values) for arg in command.argv)


def _fill(arg: str, values: dict) -> str:
    return values[arg[1:-1]] if arg.startswith("{") and arg.endswith("}") else arg


def remote_command_line(command: Command, argv: tuple[str, ...]) -> str:
    """The exec_command string: every word shell-quoted, locale pinned for stable parsing."""
    if command.files_glob:
        return f"env LC_ALL=C cat {command.files_glob}"  # a constant from COMMANDS, never user text
    words = ("cat", command.file) if command.file else argv
    return "env LC_ALL=C " + " ".join(shlex.quote(word) for word in words)


class LocalTransport:
    """Reads this machine's /proc and runs fixed argv lists; no shell anywhere."""

    def __init__(self, server_name: str, timeout_s: float):
        self.server_name = server_name
        self.timeout_s = timeout_s

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def run(self, name: str, **params: str) -> str:
        command, argv = resolve(name, params)
        if command.file:
            return self._read(command.file)
        if command.files_glob:
            return self._read_glob(command.files_glob)
        try:
            proc = subprocess.run(
                argv, check=False, capture_output=True, text=True, timeout=self.timeout_s, env=LOCAL_ENV
            )
        except subprocess.TimeoutExpired:
            raise ExecutionTimeout(
                f"{argv[0]} did not finish within {self.timeout_s:g} s on {self.server_name}"
            ) from None
        except FileNotFoundError:
            if command.ok_status is None:
                return ""  # e.g. no systemctl: the caller falls back to the process list
            raise UpstreamUnavailable(f"{argv[0]} is not installed on {self.server_name}") from None
        _check_status(self.server_name, name, command, proc.returncode, proc.stderr)
        return proc.stdout

    def _read_glob(self, pattern: str) -> str:
        texts = []
        for path in glob.glob(pattern):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    texts.append(handle.read())
            except OSError:
                continue  # the process exited between listing and reading
        return "".join(texts)

    def _read(self, path: str) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read(MAX_OUTPUT_BYTES)
        except OSError as error:
            raise UpstreamUnavailable(f"cannot read {path} on {self.server_name}: {error.strerror}") from None


def _check_status(server_name: str, name: str, command: Command, status: int, stderr: str) -> None:
    if command.ok_status is not None and status not in command.ok_status:
        detail = " ".join(stderr.split())[:200] or "no error text"
        raise UpstreamUnavailable(f"command {name!r} failed on {server_name} (exit {status}): {detail}")


class SSHTransport:
    """One paramiko connection for the life of a `with` block; runs allow-listed commands."""

    def __init__(self, server, known_hosts: str, trust_on_first_use: bool, timeout_s: float):
        self.server = server
        self.known_hosts = known_hosts
        self.trust_on_first_use = trust_on_first_use
        self.timeout_s = timeout_s
        self.client = None

    @property
    def where(self) -> str:
        return f"server {self.server.name!r} ({self.server.user}@{self.server.host}:{self.server.port})"

    def __enter__(self):
        self.client = connect(self.server, self.known_hosts, self.trust_on_first_use, self.timeout_s)
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def run(self, name: str, **params: str) -> str:
        command, argv = resolve(name, params)
        line = remote_command_line(command, argv)
        try:
            status, out, err = self._exec(line)
        except TimeoutError:
            raise ExecutionTimeout(
                f"command {name!r} did not finish within {self.timeout_s:g} s on {self.where}"
            ) from None
        except (lazy.paramiko.SSHException, OSError, EOFError) as error:
            raise UpstreamUnavailable(f"lost the SSH connection to {self.where} running {name!r}: {error}") from None
        if command.file and status != 0:
            raise UpstreamUnavailable(f"cannot read {command.file} on {self.where}: {' '.join(err.split())[:200]}")
        _check_status(self.where, name, command, status, err)
        return out

    def _exec(self, line: str) -> tuple[int, str, str]:
        started = time.monotonic()
        channel = self.client.get_transport().open_session(timeout=self.timeout_s)
        try:
            channel.settimeout(self.timeout_s)
            channel.exec_command(line)
            out = channel.makefile("rb").read(MAX_OUTPUT_BYTES)
            err = channel.makefile_stderr("rb").read(20_000)
            remaining = max(0.1, self.timeout_s - (time.monotonic() - started))
            if not channel.status_event.wait(remaining):
                raise TimeoutError()
            return channel.exit_status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        finally:
            channel.close()


def open_transport(settings, server, deadline: float | None = None):
    """A context manager giving `.run(name, **params)` for the configured server."""
    timeout_s = float(settings.ssh_timeout_s)
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ExecutionTimeout(f"no time left to query server {server.name!r}")
        timeout_s = min(timeout_s, left)
    if server.local:
        return LocalTransport(server.name, timeout_s)
    return SSHTransport(server, settings.ssh_known_hosts, settings.ssh_trust_on_first_use, timeout_s)


def connect(server, known_hosts: str, trust_on_first_use: bool, timeout_s: float):
    """An authenticated paramiko SSHClient, or a clear OrchestratorError."""
    logging.getLogger("paramiko").addHandler(logging.NullHandler())  # its thread errors are ours to report
    if not os.path.isfile(server.key_file):
        raise AgentNotConfigured(
            f"server {server.name!r} field 'key_file': {server.key_file} does not exist; fix the path in the servers file",
            field=f"servers.{server.name}.key_file",
        )
    client = lazy.paramiko.SSHClient()
    started = time.monotonic()
    try:
        if os.path.isfile(known_hosts):
            client.load_host_keys(known_hosts)
        client.set_missing_host_key_policy(_policy(server, known_hosts, trust_on_first_use))
        client.connect(
            server.host,
            port=server.port,
            username=server.user,
            key_filename=server.key_file,
            timeout=timeout_s,
            banner_timeout=timeout_s,
            auth_timeout=timeout_s,
            channel_timeout=timeout_s,
            allow_agent=False,
            look_for_keys=False,
        )
    except BaseException as error:
        client.close()
        _raise_connect_error(error, server, known_hosts, timeout_s, time.monotonic() - started)
        raise
    return client


def _policy(server, known_hosts: str, trust_on_first_use: bool):
    class RefuseUnknown(lazy.paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            raise ToolRefused(
                f"host key of server {server.name!r} ({hostname}) is not in {known_hosts}: refusing to connect. "
                f"Check the fingerprint and add it (ssh-keyscan -p {server.port} {server.host} >> {known_hosts}), "
                "or set ORCHESTRATOR_SSH_TRUST_ON_FIRST_USE=1 to accept and save it once",
                field="ORCHESTRATOR_SSH_KNOWN_HOSTS",
            )

    class TrustOnFirstUse(lazy.paramiko.AutoAddPolicy):
        def missing_host_key(self, client, hostname, key):
            super().missing_host_key(client, hostname, key)
            os.makedirs(os.path.dirname(os.path.abspath(known_hosts)), mode=0o700, exist_ok=True)
            client.save_host_keys(known_hosts)

    return TrustOnFirstUse() if trust_on_first_use else RefuseUnknown()


def _raise_connect_error(error: BaseException, server, known_hosts: str, timeout_s: float, elapsed_s: float) -> None:
    """Translate paramiko/socket failures; returns only for errors it does not know (bugs)."""
    where = f"server {server.name!r} ({server.user}@{server.host}:{server.port})"
    if isinstance(error, ToolRefused | AgentNotConfigured):
        raise error
    if isinstance(error, lazy.paramiko.BadHostKeyException):
        raise ToolRefused(
            f"host key of {where} has CHANGED since it was saved in {known_hosts}: refusing to connect "
            "(possible man-in-the-middle). If the server was really reinstalled, remove the old entry with "
            f"ssh-keygen -R '[{server.host}]:{server.port}' -f {known_hosts}",
            field="ORCHESTRATOR_SSH_KNOWN_HOSTS",
        ) from None
    if isinstance(error, lazy.paramiko.PasswordRequiredException):
        raise AgentNotConfigured(
            f"key_file of {where} is passphrase-protected; use a key without a passphrase for monitoring",
            field=f"servers.{server.name}.key_file",
        ) from None
    if isinstance(error, lazy.paramiko.AuthenticationException):
        if "timeout" in str(error).lower():
            raise ExecutionTimeout(f"authentication to {where} took longer than {timeout_s:g} s") from None
        raise UpstreamUnavailable(
            f"authentication failed for {where} with its key_file: check the public key is in the user's authorized_keys"
        ) from None
    if isinstance(error, socket.timeout | TimeoutError):
        raise ExecutionTimeout(f"connecting to {where} timed out after {timeout_s:g} s") from None
    # A silent peer surfaces either as paramiko's banner error or, when its handshake wait and
    # the banner wait expire together, as "No existing session" once the time is used up.
    if isinstance(error, lazy.paramiko.SSHException) and (
        "banner" in str(error).lower() or elapsed_s >= timeout_s * 0.9
    ):
        raise ExecutionTimeout(f"{where} sent no SSH banner within {timeout_s:g} s: is it an SSH server?") from None
    if isinstance(error, lazy.paramiko.ssh_exception.NoValidConnectionsError):
        raise UpstreamUnavailable(
            f"cannot reach {where}: connection refused or host unreachable; is sshd running?"
        ) from None
    if isinstance(error, socket.gaierror):
        raise UpstreamUnavailable(f"cannot resolve host of {where}: {error.strerror}") from None
    if isinstance(error, lazy.paramiko.SSHException | OSError | EOFError):
        raise UpstreamUnavailable(f"SSH to {where} failed: {error}") from None
