"""Running the bin/ scripts for the server: warm `--jsonl` workers, or one process per request.

The scripts are the single source of truth; the server only moves JSON in and out of them.
Starting Python and importing the toolkit costs tens of milliseconds, far more than routing
itself, so the hot scripts run as long-lived workers (`bin/route_task --jsonl`): write one
JSON line, read one JSON line. The task text always travels on stdin, never on a command line
another local user could read, and nothing goes through a shell.

A worker that dies, prints something that is not JSON, or runs past its time limit is killed
(with its whole process group: an agent may have started ssh) and replaced; the request gets
ScriptFailed (502) or ScriptTimeout (504) and the server carries on.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

from skills.progress import EVENT_KEY, EVENTS_FIELD

_READ_CHUNK = 65536
_EVENT_PREFIX = b'{"' + EVENT_KEY.encode("ascii") + b'":'

OnEvent = Callable[[str, dict], None]  # (event name, its data): a step of a streamed request


class ScriptFailed(Exception):
    """The script crashed, exited, or answered with something that is not one JSON object (502)."""

    def __init__(self, script: str, message: str, detail: str = ""):
        super().__init__(f"{script}: {message}")
        self.script = script
        self.message = message
        self.detail = detail  # for the server's log only: it may quote the script's output


class ScriptTimeout(Exception):
    """The script did not answer within its time limit; it has been killed (504)."""

    def __init__(self, script: str, limit_s: float):
        super().__init__(f"{script} did not answer within {limit_s:g}s")
        self.script = script
        self.limit_s = limit_s


class PoolBusy(Exception):
    """Every worker for this script stayed busy until the request's deadline (503)."""


class Cancelled(Exception):
    """The caller gave up on the call (an MCP client cancelled it); its process has been killed."""

    def __init__(self, script: str):
        super().__init__(f"{script} was cancelled")
        self.script = script


class Cancellation:
    """Lets another thread stop a call in progress: `cancel()` kills the process serving it.

    A warm worker cannot be told to abandon one request, so cancelling means killing it (with its
    process group: an agent may have started ssh); the pool then starts a fresh one when needed.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.cancelled = False

    def attach(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._proc = proc
            already = self.cancelled
        if already:
            _kill_group(proc)

    def detach(self) -> None:
        with self._lock:
            self._proc = None

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            proc = self._proc
        if proc is not None:
            _kill_group(proc)


class Runner(Protocol):
    """What the gateway's Service needs from whatever runs one script: the warm `WorkerPool` and
    the per-request `OneShotRunner` both provide it, so Service never asks which one it holds.
    """

    script: str

    def call(
        self, payload: dict, limit_s: float, cancel: Cancellation | None = None, on_event: OnEvent | None = None
    ) -> dict | list:
        """Run the script on `payload` and return its JSON answer.

        With `on_event`, the script is asked for its progress events (skills/progress.py) and each
        is handed to `on_event` as it arrives, before the answer. Raises ScriptFailed,
        ScriptTimeout (past `limit_s`), Cancelled (after `cancel.cancel()`) or PoolBusy (no worker
        free in time); the Service maps each to one reply.
        """
        ...

    def live(self) -> int:
        """How many processes are running for this script now (for /health and the logs)."""
        ...

    def retire_idle(self, now: float | None = None) -> int:
        """Stop processes idle long enough to give their memory back; returns how many stopped."""
        ...

    def close(self) -> None:
        """Stop every process, idle or busy: the server is shutting down."""
        ...


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and anything it started (it leads its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _asking_for_events(payload: dict, on_event: OnEvent | None) -> dict:
    return {**payload, EVENTS_FIELD: True} if on_event is not None else payload


def _event_of(raw: bytes) -> tuple[str, dict] | None:
    """(name, data) when `raw` is an event line rather than the answer; None for the answer."""
    if not raw.startswith(_EVENT_PREFIX):
        return None
    try:
        line = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None  # then it is not an event; the answer's parse says what is wrong with it
    data = line.get("data")
    return str(line[EVENT_KEY]), data if isinstance(data, dict) else {}


def _parse_answer(script: str, raw: bytes) -> dict | list:
    try:
        answer = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise ScriptFailed(script, "printed something that is not JSON", f"it began {raw[:80]!r}") from None
    if not isinstance(answer, (dict, list)):
        raise ScriptFailed(script, "printed JSON that is neither an object nor a list")
    return answer


class Worker:
    """One `<script> --jsonl` process and the bytes it has printed but we have not used yet."""

    def __init__(self, script: str, argv: list[str], env: dict | None):
        self.script = script
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the server's stderr: tracebacks land in the service's journal
            env=env,
            start_new_session=True,  # own process group, so a kill takes its children too
        )
        self.buffer = b""
        self.served = 0
        self.started = time.monotonic()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, payload: dict, deadline: float, limit_s: float, on_event: OnEvent | None = None) -> dict | list:
        """Send one request line and wait for one answer line until `deadline` (monotonic).

        With `on_event` the request asks for events: the lines before the answer are events,
        each handed to `on_event` as soon as it is read.
        """
        line = json.dumps(_asking_for_events(payload, on_event), separators=(",", ":")).encode("utf-8") + b"\n"
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise _WorkerGone(self.script) from None
        raw = self._read_line(deadline, limit_s, last=on_event is None)
        while on_event is not None and (event := _event_of(raw)) is not None:
            on_event(*event)
            raw = self._read_line(deadline, limit_s, last=False)
        if self.buffer.strip():
            # More than one line for one request: the conversation is out of step.
            raise ScriptFailed(self.script, "printed more than one line for one request")
        self.served += 1
        return _parse_answer(self.script, raw)

    def _read_line(self, deadline: float, limit_s: float, *, last: bool = True) -> bytes:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ScriptTimeout(self.script, limit_s)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, _READ_CHUNK)
            if not chunk:
                status = self.proc.wait(timeout=5)
                raise ScriptFailed(self.script, f"exited (status {status}) without answering; see the server's stderr")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\n")
        if last and self.buffer.strip():
            # More than one line for one request: the conversation is out of step.
            raise ScriptFailed(self.script, "printed more than one line for one request")
        return raw

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # a --jsonl loop ends at EOF
        except OSError:
            pass
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc)

    def kill(self) -> None:
        _kill_group(self.proc)


class _WorkerGone(Exception):
    """The worker was already dead before it saw our request: safe to retry on a fresh one."""

    def __init__(self, script: str):
        super().__init__(script)


class WorkerPool:
    """Up to `size` workers for one script; `warm` of them are started up front and always kept.

    A warm worker never answers from an older registry than a fresh `bin/route_task` would:
    each line it serves loads the registry again when its file changed. Workers
    started for a burst beyond the warm ones retire once idle for `idle_retire_s` (see
    `retire_idle`), so the memory a burst took comes back.
    """

    def __init__(
        self,
        script: str,
        path: str,
        *,
        size: int,
        warm: int = 0,
        env: dict | None = None,
        on_restart: Callable[[str, str], None] | None = None,
        generation: Callable[[], object] | None = None,
        idle_retire_s: float = 60.0,
    ):
        self.script = script
        self.argv = [sys.executable, path, "--jsonl"]
        self.size = max(1, size)
        self.warm = min(warm, self.size)
        self.idle_retire_s = idle_retire_s
        self.env = env
        self.on_restart = on_restart or (lambda script, reason: None)
        self.generation = generation or (lambda: None)
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._idle: list[tuple[Worker, object, float]] = []  # oldest first; the newest is reused first
        self._live = 0
        self._all: set[Worker] = set()  # idle and busy, so close() can stop every one
        self._closed = False
        for _ in range(self.warm):
            with self._lock:
                self._live += 1
            self._release(self._spawn())

    def _spawn(self) -> tuple[Worker, object]:
        """Start a worker in a slot the caller has already counted in `_live`."""
        try:
            worker = Worker(self.script, self.argv, self.env)
        except OSError as exc:
            with self._lock:
                self._live -= 1
                self._returned.notify()
            raise ScriptFailed(self.script, f"could not start: {exc}") from exc
        with self._lock:
            self._all.add(worker)
        return worker, self.generation()

    def _discard(self, worker: Worker, *, kill: bool, reason: str | None = None) -> None:
        worker.kill() if kill else worker.stop()
        with self._lock:
            self._live -= 1
            self._all.discard(worker)
            self._returned.notify()  # a waiter may now start a fresh worker
        if reason:
            self.on_restart(self.script, reason)

    def _release(self, entry: tuple[Worker, object]) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append((entry[0], entry[1], time.monotonic()))
                self._returned.notify()
                return
        self._discard(entry[0], kill=True)

    def _take(self, deadline: float) -> tuple[Worker, object] | None:
        """An idle worker, or None when the caller may start one; PoolBusy once `deadline` passes."""
        with self._lock:
            while True:
                if self._closed:
                    raise ScriptFailed(self.script, "the server is stopping")
                if self._idle:
                    worker, gen, _since = self._idle.pop()
                    return worker, gen
                if self._live < self.size:
                    self._live += 1  # reserved here, under the lock, so a burst cannot overshoot `size`
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolBusy(self.script)
                self._returned.wait(remaining)

    def _acquire(self, deadline: float) -> tuple[Worker, object]:
        current = self.generation()
        while True:
            taken = self._take(deadline)
            if taken is None:
                return self._spawn()
            worker, gen = taken
            if gen != current:
                self._discard(worker, kill=False)
                continue
            if not worker.alive():
                self._discard(worker, kill=True, reason="died")
                continue
            return worker, gen

    def call(
        self, payload: dict, limit_s: float, cancel: Cancellation | None = None, on_event: OnEvent | None = None
    ) -> dict | list:
        """One request through a warm worker; ScriptFailed / ScriptTimeout / PoolBusy / Cancelled on failure."""
        deadline = time.monotonic() + limit_s
        cancel = cancel or Cancellation()
        for _attempt in range(2):
            worker, gen = self._acquire(deadline)
            cancel.attach(worker.proc)
            try:
                answer = worker.call(payload, deadline, limit_s, on_event)
            except _WorkerGone:
                self._discard(worker, kill=True, reason="cancelled" if cancel.cancelled else "died")
                if cancel.cancelled:
                    raise Cancelled(self.script) from None
                continue  # it never saw the request, so trying a fresh one is safe
            except ScriptTimeout:
                self._discard(worker, kill=True, reason="timeout")
                raise
            except ScriptFailed:
                self._discard(worker, kill=True, reason="cancelled" if cancel.cancelled else "crashed")
                if cancel.cancelled:
                    raise Cancelled(self.script) from None
                raise
            except BaseException:
                self._discard(worker, kill=True, reason="error")
                raise
            finally:
                cancel.detach()
            self._release((worker, gen))
            return answer
        raise ScriptFailed(self.script, "its workers keep dying before they can answer; see the server's stderr")

    def retire_idle(self, now: float | None = None) -> int:
        """Stop workers beyond the warm ones that have been idle `idle_retire_s`; returns how many."""
        now = time.monotonic() if now is None else now
        retiring = []
        with self._lock:
            while (
                self._idle and self._live - len(retiring) > self.warm and now - self._idle[0][2] >= self.idle_retire_s
            ):
                retiring.append(self._idle.pop(0)[0])
        for worker in retiring:
            self._discard(worker, kill=False)
        return len(retiring)

    def live(self) -> int:
        with self._lock:
            return self._live

    def close(self) -> None:
        """Stop idle workers politely (EOF) and kill busy ones: the server is going away."""
        with self._lock:
            self._closed = True
            idle = [entry[0] for entry in self._idle]
            self._idle.clear()
        for worker in idle:
            self._discard(worker, kill=False)
        with self._lock:
            busy = list(self._all)
        for worker in busy:
            worker.kill()


class OneShotRunner:
    """The plain way: one `<script> --json -` process per request (the benchmark's baseline)."""

    def __init__(self, script: str, path: str, *, env: dict | None = None):
        self.script = script
        self.argv = [sys.executable, path, "--json", "-"]
        self.env = env
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def call(
        self, payload: dict, limit_s: float, cancel: Cancellation | None = None, on_event: OnEvent | None = None
    ) -> dict | list:
        """Events, when asked for, come all at once at the end: this runner reads the output whole."""
        proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env=self.env,
            start_new_session=True,
        )
        with self._lock:
            self._running.add(proc)
        cancel = cancel or Cancellation()
        cancel.attach(proc)
        try:
            out, _ = proc.communicate(
                json.dumps(_asking_for_events(payload, on_event)).encode("utf-8"), timeout=limit_s
            )
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ScriptTimeout(self.script, limit_s) from None
        finally:
            cancel.detach()
            with self._lock:
                self._running.discard(proc)
        if cancel.cancelled:
            raise Cancelled(self.script)
        out = out.strip()
        while on_event is not None and (event := _event_of(out.partition(b"\n")[0])) is not None:
            on_event(*event)
            out = out.partition(b"\n")[2].strip()
        if not out:
            raise ScriptFailed(
                self.script, f"exited (status {proc.returncode}) without answering; see the server's stderr"
            )
        return _parse_answer(self.script, out)

    def live(self) -> int:
        return 0

    def retire_idle(self, now: float | None = None) -> int:
        return 0  # nothing stays idle: every process ends with its request

    def close(self) -> None:
        with self._lock:
            running = list(self._running)
        for proc in running:
            _kill_group(proc)
