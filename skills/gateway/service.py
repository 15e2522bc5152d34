"""What each endpoint does, in terms of the scripts: no HTTP here, only (status, JSON) replies.

The scripts answer in JSON with a stable `code` on failure; the HTTP status for a code is the
`http_status` of its error class in skills/errors.py, so the mapping is written down once.
This layer adds what only a long-running server can: warm workers, a short cache for the
registry-derived answers, metrics, the log lines, async tasks (queued in the store, run by
skills/gateway/claimer.py's claimer) and batches.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from skills import contracts, errors
from skills.gateway import validation
from skills.gateway.logs import excerpt, get_logger
from skills.gateway.metrics import Metrics
from skills.gateway.replies import Reply, error_reply, status_for
from skills.gateway.state_health import state_dir_report
from skills.gateway.workers import (
    Cancellation,
    OneShotRunner,
    OnEvent,
    PoolBusy,
    Runner,
    ScriptFailed,
    ScriptTimeout,
    WorkerPool,
)
from skills.ledger import history
from skills.store import Store, open_store
from skills.store.base import StoreError

SCRIPTS = ("route_task", "execute_agent", "list_agents", "agent_info", "workforce_stats", "route_feedback")
EXECUTION_WORKERS = 8  # concurrent agent runs (they wait on Claude, SSH, SQL: I/O, not CPU)
BATCH_CONCURRENCY = 4  # tasks of one batch run at once
MAX_PENDING_TASKS = 1000  # unfinished async tasks (every replica's) before execute-async answers 503
CACHE_TTL_S = 30.0  # registry-derived answers (agent lists) are reused this long
GAUGE_TTL_S = 15.0  # ledger figures on /metrics (agent selection accuracy) are re-read at most this often


class Service:
    def __init__(self, settings, metrics: Metrics | None = None):
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.log = get_logger()
        self.quick_limit_s = settings.request_timeout_s
        self.exec_limit_s = settings.agent_timeout_s + settings.request_timeout_s
        self._check_bin_dir()
        self.runners: dict[str, Runner] = {name: self._runner(name) for name in SCRIPTS}
        self.claimer = None  # a TaskClaimer once a command attaches one (skills/gateway/claimer.py)
        self.batch_pool = ThreadPoolExecutor(BATCH_CONCURRENCY, thread_name_prefix="batch")
        self._cache: dict[str, tuple[float, object, object]] = {}
        self._cache_lock = threading.Lock()
        self._gauges_read_at: float | None = None  # monotonic; None = read on the next /metrics
        self.started_at = time.time()
        self._closing = threading.Event()
        self._health_reasons: list[str] = []
        threading.Thread(target=self._retire_idle_workers, name="worker-retirer", daemon=True).start()

    # --- scripts -------------------------------------------------------------------------

    def _registry_generation(self):
        """Changes when registry/agents.yaml does: warm workers and cached answers then expire."""
        try:
            return os.stat(self.settings.registry_path).st_mtime_ns
        except OSError:
            return None

    def _check_bin_dir(self) -> None:
        for name in SCRIPTS:
            path = os.path.join(self.settings.bin_dir, name)
            if not os.path.isfile(path):
                raise errors.BadInput(
                    f"{path} does not exist: ORCHESTRATOR_BIN_DIR must be the directory holding the "
                    "orchestrator's scripts (the project's bin/)",
                    field="ORCHESTRATOR_BIN_DIR",
                )

    def _runner(self, name: str) -> Runner:
        path = os.path.join(self.settings.bin_dir, name)
        workers = self.settings.server_workers
        if workers <= 0:
            return OneShotRunner(name, path)
        hot = name in ("route_task", "execute_agent")
        size = max(workers, EXECUTION_WORKERS) if name == "execute_agent" else max(workers, 2)
        return WorkerPool(
            name,
            path,
            size=size,
            warm=workers if hot else 0,
            on_restart=self._worker_restarted,
            generation=self._registry_generation,
            idle_retire_s=self.settings.worker_idle_s,
        )

    def _retire_idle_workers(self) -> None:
        """Every few seconds, let the pools stop burst workers that have sat idle long enough."""
        interval = min(10.0, max(0.2, self.settings.worker_idle_s / 4))
        while not self._closing.wait(interval):
            retired = sum(runner.retire_idle() for runner in self.runners.values())
            if retired:
                self.log.info("Retired %d idle workers | Live: %d", retired, self.live_workers())

    def live_workers(self) -> int:
        return sum(runner.live() for runner in self.runners.values())

    def _worker_restarted(self, script: str, reason: str) -> None:
        self.metrics.inc("orchestrator_worker_restarts_total", script=script, reason=reason)
        self.log.warning("Replaced a %s worker | Reason: %s", script, reason)

    def run(
        self,
        script: str,
        payload: dict,
        limit_s: float,
        cancel: Cancellation | None = None,
        on_event: OnEvent | None = None,
    ) -> Reply:
        """One script call as a reply: its answer, or 502/503/504 saying what went wrong.

        `cancel` lets another thread stop the call (the MCP server does when a client cancels);
        the call then raises Cancelled. `on_event` gets the run's progress events as they happen
        (a streamed request); it must not raise.
        """
        try:
            answer = self.runners[script].call(payload, limit_s, cancel, on_event)
        except ScriptTimeout as exc:
            self.log.error("%s timed out after %gs; its worker was killed", script, exc.limit_s)
            message = f"{script} did not answer within {exc.limit_s:g}s and was stopped; try again or simplify the task"
            return error_reply(errors.ExecutionTimeout(message))
        except ScriptFailed as exc:
            self.log.error("%s failed: %s %s", script, exc.message, exc.detail)
            message = f"{script} failed: {exc.message}; the server's log and stderr have the details"
            return error_reply(errors.ScriptFailure(message))
        except PoolBusy:
            message = f"every {script} worker is busy; retry in a few seconds"
            return error_reply(errors.Overloaded(message, headers={"Retry-After": "2"}))
        return Reply(status_for(answer), answer)

    def _cached(self, name: str, script: str, payload: dict) -> Reply:
        key = script + json.dumps(payload, sort_keys=True)
        generation = self._registry_generation()
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit and hit[1] == generation and now - hit[0] < CACHE_TTL_S:
            self.metrics.inc("orchestrator_cache_hits_total", cache=name)
            return Reply(200, hit[2])
        self.metrics.inc("orchestrator_cache_misses_total", cache=name)
        reply = self.run(script, payload, self.quick_limit_s)
        if reply.status == 200:
            with self._cache_lock:
                self._cache[key] = (now, generation, reply.body)
        return reply

    # --- endpoints -----------------------------------------------------------------------

    def route(self, fields: dict) -> Reply:
        started = time.perf_counter()
        reply = self.run("route_task", fields, self.quick_limit_s)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if reply.status == 200 and isinstance(reply.body, dict):
            status = str(reply.body.get("status", "unknown"))
            self.metrics.inc("orchestrator_routing_total", status=status)
            self._count_fallback(reply.body.get("llm_fallback"))
            self.log.info("Routed task in %dms | Status: %s | Task: %s", elapsed_ms, status, excerpt(fields["task"]))
        return reply

    def _count_fallback(self, report) -> None:
        """A model call that settled (or failed to settle) an unsure route; reports without a model made none."""
        if isinstance(report, dict) and "model" in report:
            self.metrics.inc("orchestrator_llm_fallback_total", outcome="used" if report.get("used") else "failed")

    def execute(self, fields: dict, cancel: Cancellation | None = None, on_event: OnEvent | None = None) -> Reply:
        return self._execute(fields, fields["agent"], cancel, on_event)

    def smart_execute(self, fields: dict, cancel: Cancellation | None = None, on_event: OnEvent | None = None) -> Reply:
        return self._execute(fields, None, cancel, on_event)

    def _execute(
        self, fields: dict, agent: str | None, cancel: Cancellation | None = None, on_event: OnEvent | None = None
    ) -> Reply:
        started = time.perf_counter()
        reply = self.run("execute_agent", fields, self.exec_limit_s, cancel, on_event)
        elapsed_ms = (time.perf_counter() - started) * 1000
        body = reply.body if isinstance(reply.body, dict) else {}
        agent = body.get("agent") if isinstance(body.get("agent"), str) else agent
        success = reply.status == 200 and body.get("success") is not False
        outcome = "success" if success else str(body.get("code", "error"))
        self.metrics.inc("orchestrator_executions_total", agent=agent or "none", outcome=outcome)
        routing = body.get("routing")
        routed_status = routing.get("status") if isinstance(routing, dict) else body.get("status")
        if agent is None and routed_status:
            self.metrics.inc("orchestrator_routing_total", status=str(routed_status))
        self._count_fallback((routing if isinstance(routing, dict) else body).get("llm_fallback"))
        for warning in body.get("warnings") or []:
            self.log.warning("Executed via %s with a warning | %s", agent, warning)
        if agent:
            self.log.info("Executed via %s in %dms | Success: %s", agent, elapsed_ms, success)
        else:
            self.log.info(
                "Smart execute ran no agent in %dms | Status: %s | Task: %s",
                elapsed_ms,
                routed_status or outcome,
                excerpt(fields.get("task", "")),
            )
        return reply

    def list_agents(self, category: str | None) -> Reply:
        return self._cached("agents", "list_agents", {"category": category} if category else {})

    def agent_info(self, agent_id: str) -> Reply:
        return self._cached("agent_info", "agent_info", {"agent": agent_id})

    def stats(self, since: str | None) -> Reply:
        return self.run("workforce_stats", {"since": since} if since else {}, self.quick_limit_s)

    def feedback(self, fields: dict) -> Reply:
        """Record a routing verdict through route_feedback (HTTP verdicts never count as an operator's)."""
        reply = self.run("route_feedback", {**fields, "source": "http"}, self.quick_limit_s)
        if reply.status == 200 and isinstance(reply.body, dict):
            reply.status = 201
            kind = "correction" if reply.body.get("correction") else "agreement"
            self.metrics.inc("orchestrator_feedback_total", kind=kind)
            self._gauges_read_at = None  # the accuracy just changed
            self.log.info(
                "Feedback recorded | Routed: %s | Correct: %s | Confirmed: %s | Task: %s",
                reply.body.get("routed_agent") or "none",
                reply.body.get("correct_agent") or "none",
                reply.body.get("confirmed"),
                excerpt(fields["task"]),
            )
        return reply

    def refresh_ledger_gauges(self) -> None:
        """Agent selection accuracy for /metrics, from workforce_stats (the ledger is its source)."""
        now = time.monotonic()
        if self._gauges_read_at is not None and now - self._gauges_read_at < GAUGE_TTL_S:
            return
        reply = self.run("workforce_stats", {}, self.quick_limit_s)
        routing = reply.body.get("routing") if reply.status == 200 and isinstance(reply.body, dict) else None
        if not isinstance(routing, dict):
            return  # /metrics still answers; the gauges keep their last values
        self._gauges_read_at = now
        self.metrics.set_gauge("orchestrator_agent_selection_accuracy", routing.get("agent_selection_accuracy"))
        self.metrics.set_gauge("orchestrator_routed_executions", routing.get("routed_executions"))
        self.metrics.set_gauge("orchestrator_corrected_executions", routing.get("corrected_executions"))

    def health(self) -> Reply:
        agents = self.run("list_agents", {}, self.quick_limit_s)  # uncached: a probe wants the truth now
        registry_ok = agents.status == 200 and isinstance(agents.body, list)
        try:
            store = self.store
        except StoreError:
            store = None  # cannot even open it: reported as not writable
        state = state_dir_report(self.settings.state_dir, store)
        healthy = registry_ok and state["writable"]
        body = {
            "status": "ok" if healthy else "degraded",
            "registry": {"loaded": registry_ok, "agents": len(agents.body) if registry_ok else 0},
            "ledger": {"writable": state["writable"]},
            "state_dir": state,
            "agents": [
                {"id": a.get("id"), "status": a.get("status"), "configured": a.get("configured")}
                for a in (agents.body if registry_ok else [])
                if isinstance(a, dict)
            ],
            "workers": {name: runner.live() for name, runner in self.runners.items()},
            "uptime_s": round(time.time() - self.started_at, 1),
        }
        if not registry_ok:
            body["registry"]["error"] = agents.body.get("error") if isinstance(agents.body, dict) else "unknown"
        reasons = [reason for reason in (body["registry"].get("error"), state.get("error")) if reason]
        if reasons:
            body["reasons"] = reasons
        self._note_health(reasons)
        return Reply(200 if healthy else 503, body)

    def _note_health(self, reasons: list[str]) -> None:
        """Log when health changes (not at every probe), saying why."""
        if reasons == self._health_reasons:
            return
        self._health_reasons = reasons
        if reasons:
            self.log.warning("Health degraded | Reason: %s", "; ".join(reasons))
        else:
            self.log.info("Health ok again")

    # --- async tasks and batches ---------------------------------------------------------

    @property
    def store(self) -> Store:
        """The shared store, opened at first use (and again after a failed open: it may be back)."""
        return open_store(self.settings)

    def attach_claimer(self, claimer) -> None:
        """The command that runs async tasks here (skills/gateway/claimer.py) hands its claimer over,
        so close() stops claiming before the workers stop."""
        self.claimer = claimer

    def submit(self, kind: str, fields: dict) -> Reply:
        """Queue the task in the store; whichever claimer (server or worker) is free runs it."""
        try:
            if self.store.count_unfinished() >= MAX_PENDING_TASKS:
                message = f"{MAX_PENDING_TASKS} tasks are already waiting; poll them and retry later"
                return error_reply(errors.Overloaded(message, headers={"Retry-After": "10"}))
            task_id = self.store.create_task(kind, fields)
        except StoreError as error:  # refuse rather than accept a task we cannot keep
            return self._state_unavailable("cannot store the task", error)
        return Reply(202, {"task_id": task_id, "status": "processing"})

    def _state_unavailable(self, what: str, error: Exception) -> Reply:
        self.log.error("Task store unusable: %s: %s", what, error)
        message = (
            f"the server {what} ({error}): its state directory or database is full, read-only, damaged or "
            "unreachable; GET /health says which. POST /orchestrator/smart-execute still answers directly"
        )
        return error_reply(StoreError(message, headers={"Retry-After": "30"}))

    def task(self, task_id: str) -> Reply:
        try:
            found = self.store.get_task(task_id) if len(task_id) <= 64 else None
        except StoreError as error:
            return self._state_unavailable("cannot read its tasks", error)
        if found is None:
            message = f"no task {task_id[:64]!r}: task ids come from POST /orchestrator/execute-async"
            return error_reply(errors.TaskNotFound(message, field="task_id"))
        return Reply(200, found)

    # --- the history -----------------------------------------------------------------------

    def executions(self, filters: dict) -> Reply:
        """The ledger's latest executions (skills/ledger/history.py), read in this process: no script
        needed, as for async tasks, and a thousand rows answer in milliseconds."""
        try:
            return Reply(200, history.list_executions(self.settings, **filters))
        except StoreError as error:
            return self._state_unavailable("cannot read its ledger", error)

    def execution(self, execution_id: str) -> Reply:
        number = (
            int(execution_id) if execution_id.isascii() and execution_id.isdigit() and len(execution_id) <= 18 else 0
        )
        try:
            found = history.get_execution(self.settings, number) if number else None
        except StoreError as error:
            return self._state_unavailable("cannot read its ledger", error)
        if found is None:
            message = f"no execution {execution_id[:64]!r}: ids come from GET /orchestrator/executions"
            return error_reply(errors.ExecutionNotFound(message, field="execution_id"))
        return Reply(200, found)

    def batch(self, items: list[dict]) -> Reply:
        futures = [self.batch_pool.submit(self.smart_execute, item) for item in items]
        return Reply(200, [future.result().body for future in futures])

    def on_websocket_text(self, text: str, on_event: OnEvent | None = None) -> str:
        """A WebSocket message: a task (plain text or {"task": ...}) in, its smart-execute JSON out
        (and, with `on_event`, its progress events as they happen before that)."""
        try:
            stripped = text.strip()
            body = validation.parse_json(stripped.encode("utf-8")) if stripped.startswith("{") else {"task": text}
            reply = self.smart_execute(validation.check(body, contracts.SMART_EXECUTE), on_event=on_event)
            return json.dumps(reply.body)
        except (errors.BadInput, errors.BadJson) as exc:
            return json.dumps(exc.to_json())

    def close(self, grace_s: float = 0.0) -> None:
        """Stop: the claimer (if any) stops claiming and gives running async tasks `grace_s` to finish,
        then hands the rest back to the queue (skills/gateway/claimer.py); then the workers stop."""
        self._closing.set()
        if self.claimer is not None:
            self.claimer.stop(grace_s)
        self.batch_pool.shutdown(wait=False, cancel_futures=True)
        for runner in self.runners.values():
            runner.close()
