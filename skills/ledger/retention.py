"""How long the ledger keeps executions (ORCHESTRATOR_LEDGER_DAYS), and the thread that prunes it.

An execution row is ~4 KB; without a bound a busy server's ledger only grows. Every long-running
process (the HTTP server, bin/orchestrator_worker, the MCP server: whatever builds a
skills/gateway Service) runs one `LedgerPruner`: it prunes once at start, then every hour, in the
background, never on a request's path. Several replicas pruning the same PostgreSQL ledger is
harmless: each DELETE removes what is still there. The statistics count the same window whether or
not a prune has run yet (`window`), so they never mix in rows that are about to go.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from skills.store import StoreError, open_store

PRUNE_EVERY_S = 3600.0
DAY_S = 86400


def cutoff(settings, now: float | None = None) -> float | None:
    """The epoch time before which executions are not kept, or None when everything is (0 days)."""
    if settings.ledger_days <= 0:
        return None
    return (time.time() if now is None else now) - settings.ledger_days * DAY_S


def window(settings, since: float | None, now: float | None = None) -> tuple[float | None, dict]:
    """(the start the figures count from, the `window` statistics report): the later of the asked
    `since` and the retention cut-off, with the number of days kept (None: no limit)."""
    kept_from = cutoff(settings, now)
    starts = [moment for moment in (since, kept_from) if moment is not None]
    start = max(starts) if starts else None
    iso = datetime.fromtimestamp(start, UTC).isoformat(timespec="seconds") if start is not None else None
    return start, {"days": settings.ledger_days or None, "since": iso}


def prune(settings, now: float | None = None) -> dict[str, int]:
    """Delete the executions and routing-fallback rows older than the window; table -> rows removed."""
    before = cutoff(settings, now)
    if before is None:
        return {}
    return open_store(settings).prune_ledger(before)


class LedgerPruner:
    """A daemon thread pruning the ledger at start and every `every_s` until `stop()`."""

    def __init__(self, settings, log, *, every_s: float = PRUNE_EVERY_S):
        self.settings = settings
        self.log = log
        self.every_s = every_s
        self.runs = 0  # prunes attempted (tests wait on it)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ledger-pruner", daemon=True)

    def start(self) -> LedgerPruner:
        if self.settings.ledger_days > 0:
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._prune_once()
            self._stopping.wait(self.every_s)

    def _prune_once(self) -> None:
        try:
            pruned = prune(self.settings)
        except StoreError as error:  # the store is down: the next round tries again
            self.log.warning("Ledger not pruned, trying again in %.0fs | Reason: %s", self.every_s, error)
            return
        finally:
            self.runs += 1
        if any(pruned.values()):
            self.log.info(
                "Pruned the ledger to its last %d days | Executions: %d | Routing fallbacks: %d",
                self.settings.ledger_days,
                pruned.get("executions", 0),
                pruned.get("routing_fallbacks", 0),
            )
