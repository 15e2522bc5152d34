"""The durable queue's runtime: claim async tasks from the store and run them on the warm script workers.

Who runs a task: any process with a `TaskClaimer`, i.e. every HTTP server (unless
ORCHESTRATOR_CLAIM_TASKS=0) and `bin/orchestrator_worker`. One dispatcher thread waits for work
(`store.wait_for_task`: PostgreSQL LISTEN, SQLite a short poll) and claims a task whenever one of the
ORCHESTRATOR_ASYNC_CONCURRENCY slots is free; the task runs in a slot through Service.execute or
smart_execute, the same warm workers a synchronous request uses.

Leases: a claim holds a task for ORCHESTRATOR_TASK_LEASE seconds and a heartbeat renews every held
lease each third of that. A process that dies (SIGKILL, machine gone) stops renewing; once the lease
expires another claimer takes the task over (the store decides whether it may run again). A run whose
lease was lost to another claimer is cancelled and its result dropped: the task is someone else's now.

Writing agents: an agent that needs Convex (`requires: [convex]` in the registry: the task agent adds,
updates, reassigns and completes tasks) counts as writing; the other agents only read (their SQL goes
through skills/backends/sql_guard.py, which refuses writes). Before a task can run one, the claimer marks it
(`mark_task_writes`), so a lost lease ends it `failed`/`interrupted` instead of making a change twice.
A smart task's agent is only known once routed, so the claimer asks route_task first (lexical only, a
few milliseconds): an unsure route counts as writing when any agent it is torn between writes.

Stopping: `stop(grace_s)` stops claiming, lets running tasks finish for `grace_s`, then gives the rest
back to the queue (another claimer runs them) or, for a writing task, ends it `interrupted`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from skills import errors
from skills.gateway.replies import Reply, error_reply
from skills.gateway.workers import Cancellation, Cancelled
from skills.store.base import ClaimedTask, StoreError

WAIT_S = 0.5  # longest idle wait between claims; also how fast the dispatcher notices a stop
KEEP_DAYS = 7  # finished tasks older than this are deleted
PRUNE_EVERY_S = 3600.0
DISPATCHER_JOIN_S = 30.0  # a claim in flight may wait on a reconnecting database; do not wait forever
STORE_RETRY_S = (0.2, 0.5, 1.0, 2.0)  # back-off while the store is unreachable (PostgreSQL restarting)
WRITING_REQUIREMENT = "convex"
STOPPED_WRITING = (
    "the orchestrator stopped while this task was running an agent that changes data, and it did not "
    "finish within ORCHESTRATOR_SHUTDOWN_GRACE; it was not re-run, so no change is made twice: check the "
    "data, then submit it anew if still needed"
)


def check_claim_settings(settings) -> None:
    """BadInput naming the setting when the claimer's settings cannot work."""
    if settings.async_concurrency < 1:
        raise errors.BadInput(
            f"ORCHESTRATOR_ASYNC_CONCURRENCY must be at least 1, got {settings.async_concurrency}",
            field="ORCHESTRATOR_ASYNC_CONCURRENCY",
        )
    if not 1.0 <= settings.task_lease_s <= 3600.0:
        raise errors.BadInput(
            f"ORCHESTRATOR_TASK_LEASE must be between 1 and 3600 seconds, got {settings.task_lease_s:g}",
            field="ORCHESTRATOR_TASK_LEASE",
        )


def owner_id() -> str:
    """Who holds a lease: host, process and a random part (a restarted process is someone new)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Running:
    task: ClaimedTask
    cancel: Cancellation = field(default_factory=Cancellation)
    started: float = field(default_factory=time.monotonic)
    writes: bool = False
    lost: bool = False  # the heartbeat found the lease taken over
    stopped: bool = False  # stop() gave it back (or ended it) past the grace period


class TaskClaimer:
    """Claims and runs async tasks for `service` until `stop()`; see the module docstring."""

    def __init__(self, service, *, slots: int, lease_s: float):
        self.service = service
        self.log = service.log
        self.owner = owner_id()
        self.slots = slots
        self.lease_s = lease_s
        self.counts: Counter = Counter()  # completed, failed, dropped, released, interrupted
        self._free = threading.BoundedSemaphore(slots)
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix="async-task")
        self._running: dict[str, Running] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._store_down_since: float | None = None
        self._pruned_at = 0.0  # monotonic; 0 = prune at the first idle moment
        self._dispatcher = threading.Thread(target=self._dispatch, name="task-claimer", daemon=True)
        self._heartbeat = threading.Thread(target=self._renew_leases, name="task-heartbeat", daemon=True)

    def start(self) -> TaskClaimer:
        self._dispatcher.start()
        self._heartbeat.start()
        self.log.info("Claiming async tasks | Owner: %s | Slots: %d | Lease: %gs", self.owner, self.slots, self.lease_s)
        return self

    @property
    def store(self):
        return self.service.store

    # --- claiming ------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            if not self._free.acquire(timeout=WAIT_S):
                continue
            try:
                task = self._claim_next()
            except Exception:  # a bug must not end claiming for good: log it, pause, go on
                self.log.exception("Claiming an async task failed")
                self._stopping.wait(STORE_RETRY_S[-1])
                task = None
            if task is None:
                self._free.release()
                continue
            running = Running(task, writes=task.writes)
            with self._changed:
                self._running[task.task_id] = running
            try:
                self._pool.submit(self._run, running)
            except RuntimeError:  # stop() gave up waiting for this thread and shut the pool: hand it back
                self._give_back(running)

    def _claim_next(self) -> ClaimedTask | None:
        """The next task this process may run, or None once stopping."""
        failures = 0
        while not self._stopping.is_set():
            try:
                task = self.store.claim_task(self.owner, self.lease_s)
                self._store_back()
                if task is not None:
                    return task
                self._prune_now_and_then()
                self.store.wait_for_task(WAIT_S)
            except StoreError as error:
                self._store_down(error)
                self._stopping.wait(STORE_RETRY_S[min(failures, len(STORE_RETRY_S) - 1)])
                failures += 1
        return None

    def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = time.monotonic()
        pruned = self.store.prune_tasks(KEEP_DAYS)
        if pruned:
            self.log.info("Pruned %d async tasks finished over %d days ago", pruned, KEEP_DAYS)

    def _store_down(self, error: Exception) -> None:
        """Log once per outage, not at every retry."""
        if self._store_down_since is None:
            self._store_down_since = time.monotonic()
            self.log.error("Task store unusable, retrying | Reason: %s", error)

    def _store_back(self) -> None:
        if self._store_down_since is not None:
            self.log.info("Task store usable again after %.1fs", time.monotonic() - self._store_down_since)
            self._store_down_since = None

    # --- running -------------------------------------------------------------------------

    def _run(self, running: Running) -> None:
        try:
            reply = self._execute(running)
            if reply is not None:
                self._finish(running, reply)
        finally:
            self._forget(running)

    def _execute(self, running: Running):
        """The task's reply, or None when it is no longer ours to answer."""
        task = running.task
        try:
            if not running.writes and may_write(self.service, task):
                self.store.mark_task_writes(task.task_id, self.owner)
                running.writes = True
            if running.lost or running.stopped:
                return None
            run = self.service.execute if task.kind == "execute" else self.service.smart_execute
            return run(task.request, running.cancel)
        except Cancelled:
            return None  # the lease was lost, or stop() gave the task back: someone else answers for it
        except StoreError as error:  # not marked as writing: running it now could make a change twice
            self.log.error("Task %s not run: cannot mark it as writing | Reason: %s", task.task_id, error)
            self._give_back(running)
            return None
        except Exception as exc:  # a task must end in a final state, whatever broke
            self.log.exception("Async task %s failed inside the orchestrator", task.task_id)
            return _internal_error(exc)

    def _finish(self, running: Running, reply) -> None:
        task = running.task
        body = reply.body if isinstance(reply.body, dict) else {}
        ok = reply.status == 200 and body.get("success") is not False
        error = body.get("error") if not ok else None
        recorded = self._record(task, ok=ok, http_status=reply.status, result=reply.body, error=error)
        agent = body.get("agent") if isinstance(body.get("agent"), str) else task.request.get("agent") or "none"
        if recorded != "kept":
            self.counts["dropped"] += 1
            why = "its lease is held elsewhere now" if recorded == "lost" else "the store stayed unusable"
            self.log.warning("Task %s ran here but %s | Result dropped | Agent: %s", task.task_id, why, agent)
            return
        status = "completed" if ok else "failed"
        self.counts[status] += 1
        self.service.metrics.inc("orchestrator_async_tasks_total", outcome=status)
        self.log.info(
            "Task %s %s in %dms | Kind: %s | Agent: %s | HTTP: %d | Attempt: %d%s",
            task.task_id,
            status,
            (time.monotonic() - running.started) * 1000,
            task.kind,
            agent,
            reply.status,
            task.attempts,
            " | Writes" if running.writes else "",
        )

    def _record(self, task: ClaimedTask, **outcome) -> str:
        """finish_task, retried while the store is briefly unreachable: "kept", "lost" or "unrecorded".

        Retrying is safe: finish_task applies only while this owner holds the running task."""
        give_up = time.monotonic() + self.lease_s
        failures = 0
        while True:
            try:
                kept = self.store.finish_task(task.task_id, self.owner, **outcome)
                self._store_back()
                return "kept" if kept else "lost"
            except StoreError as error:
                self._store_down(error)
                pause = STORE_RETRY_S[min(failures, len(STORE_RETRY_S) - 1)]
                failures += 1
                if time.monotonic() + pause > give_up:
                    return "unrecorded"
                time.sleep(pause)

    def _forget(self, running: Running) -> None:
        with self._changed:
            if self._running.pop(running.task.task_id, None) is not None:
                self._free.release()
            self._changed.notify_all()

    # --- leases ----------------------------------------------------------------------------

    def _renew_leases(self) -> None:
        while not self._done.wait(self.lease_s / 3):
            with self._changed:
                held = [running for running in self._running.values() if not running.lost]
            for running in held:
                try:
                    still_ours = self.store.renew_lease(running.task.task_id, self.owner, self.lease_s)
                except StoreError as error:
                    self._store_down(error)
                    continue
                if not still_ours and not running.stopped:
                    running.lost = True
                    self.log.warning("Task %s: lease lost to another claimer | Stopping its run", running.task.task_id)
                    running.cancel.cancel()

    # --- stopping --------------------------------------------------------------------------

    def stop(self, grace_s: float) -> Counter:
        """Stop claiming; give running tasks `grace_s` to finish; give back (or end) the rest."""
        self._stopping.set()
        self._dispatcher.join(timeout=DISPATCHER_JOIN_S)
        deadline = time.monotonic() + grace_s
        with self._changed:
            while self._running and (remaining := deadline - time.monotonic()) > 0:
                self._changed.wait(remaining)
            leftovers = list(self._running.values())
        for running in leftovers:
            running.stopped = True
            self._give_back(running)
            running.cancel.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._done.set()
        return self.counts

    def _give_back(self, running: Running) -> None:
        """Release a task for another claimer, or end a writing one `interrupted` (never run twice)."""
        task_id = running.task.task_id
        try:
            if running.writes:
                body = errors.Interrupted(STOPPED_WRITING).to_json()
                self.store.finish_task(
                    task_id, self.owner, ok=False, http_status=500, result=body, error=STOPPED_WRITING
                )
                self.counts["interrupted"] += 1
                self.log.warning("Task %s ended interrupted by the shutdown (its agent writes)", task_id)
            else:
                self.store.release_task(task_id, self.owner)
                self.counts["released"] += 1
                self.log.info("Task %s given back to the queue by the shutdown", task_id)
        except StoreError as error:  # its lease expires instead, and another claimer takes it over
            self.log.error("Task %s could not be given back; its lease will expire | Reason: %s", task_id, error)
        self._forget(running)

    def running(self) -> int:
        with self._changed:
            return len(self._running)


def may_write(service, task: ClaimedTask) -> bool:
    """Could this task run an agent that changes data? When unsure, yes."""
    if task.kind == "execute":
        return agent_writes(service, task.request.get("agent"))
    payload = {"task": task.request.get("task", "")}
    if task.request.get("context") is not None:
        payload["context"] = task.request["context"]
    reply = service.run("route_task", payload, service.quick_limit_s)
    body = reply.body if isinstance(reply.body, dict) else None
    if body is None or reply.status >= 500:
        return True  # routing failed: cannot tell which agent smart execute will pick
    return any(agent_writes(service, agent_id) for agent_id in _candidates(body))


def _candidates(route: dict) -> set[str]:
    """The agent a route chose, or every agent an unsure one is torn between (the model may pick any)."""
    found = set()
    if isinstance(route.get("agent"), dict):
        found.add(route["agent"].get("agent_id"))
    for key in ("options", "suggestions"):
        found.update(item.get("agent_id") for item in route.get(key) or [] if isinstance(item, dict))
    return {agent_id for agent_id in found if isinstance(agent_id, str)}


def agent_writes(service, agent_id) -> bool:
    if not isinstance(agent_id, str):
        return False  # execute refuses it before any agent runs
    reply = service.agent_info(agent_id)
    if reply.status == 404:
        return False  # no such agent: nothing runs
    if reply.status != 200 or not isinstance(reply.body, dict):
        return True  # cannot tell: assume the worst
    return WRITING_REQUIREMENT in (reply.body.get("requires") or [])


def start_claiming(service, slots: int) -> TaskClaimer:
    """Run async tasks from the store in this process, `slots` at once, until the service closes."""
    claimer = TaskClaimer(service, slots=slots, lease_s=service.settings.task_lease_s).start()
    service.attach_claimer(claimer)
    return claimer


def _internal_error(exc: Exception) -> Reply:
    message = f"the orchestrator failed while running this task: {type(exc).__name__}"
    return error_reply(errors.OrchestratorError(message))
