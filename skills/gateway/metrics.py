"""Counters and latency histograms, rendered in the Prometheus text format (version 0.0.4).

Labels are bounded on purpose: endpoints are route templates ("/orchestrator/agents/{id}"),
never raw paths, so a client probing random URLs cannot grow the series without limit.
"""

from __future__ import annotations

import threading
from collections import defaultdict

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

_HELP = {
    "orchestrator_http_requests_total": ("counter", "HTTP requests answered, by endpoint, method and status."),
    "orchestrator_http_errors_total": ("counter", "HTTP answers with status 400 or above, by endpoint and status."),
    "orchestrator_http_request_duration_seconds": ("histogram", "Time to answer a request, by endpoint."),
    "orchestrator_http_in_flight": ("gauge", "Requests being answered right now."),
    "orchestrator_executions_total": ("counter", "Agent executions, by agent and outcome (success or error code)."),
    "orchestrator_routing_total": ("counter", "Routing decisions, by status (routed, high_confidence, ...)."),
    "orchestrator_llm_fallback_total": (
        "counter",
        "Model calls that settled unsure routes, by outcome (used, failed).",
    ),
    "orchestrator_cache_hits_total": ("counter", "Answers served from the server's cache, by cache."),
    "orchestrator_cache_misses_total": ("counter", "Cache lookups that had to run the script, by cache."),
    "orchestrator_worker_restarts_total": ("counter", "Warm script workers replaced, by script and reason."),
    "orchestrator_async_tasks_total": (
        "counter",
        "Async tasks this process ran and ended, by outcome (completed, failed).",
    ),
    "orchestrator_feedback_total": ("counter", "Routing verdicts received over HTTP, by kind (correction, agreement)."),
    "orchestrator_agent_selection_accuracy": (
        "gauge",
        "Share of routed executions in the ledger that no routing verdict contradicts (0..1).",
    ),
    "orchestrator_routed_executions": ("gauge", "Executions in the ledger whose agent routing chose."),
    "orchestrator_corrected_executions": ("gauge", "Routed executions whose agent a routing verdict contradicts."),
}
IN_FLIGHT = "orchestrator_http_in_flight"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: tuple) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
        self._hist: dict[tuple, list] = {}  # endpoint labels -> [bucket counts..., sum, count]
        self.in_flight = 0
        self._gauges: dict[str, float] = {}  # read from elsewhere (the ledger); absent until known

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._counters[name][key] += amount

    def value(self, name: str, **labels: str) -> float:
        """The current value of one counter series (0 when never touched); handy for tests."""
        with self._lock:
            return self._counters[name].get(tuple(sorted(labels.items())), 0)

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.inc("orchestrator_http_requests_total", endpoint=endpoint, method=method, status=str(status))
        if status >= 400:
            self.inc("orchestrator_http_errors_total", endpoint=endpoint, status=str(status))
        key = (("endpoint", endpoint),)
        with self._lock:
            row = self._hist.setdefault(key, [0] * len(LATENCY_BUCKETS_S) + [0.0, 0])
            for index, bound in enumerate(LATENCY_BUCKETS_S):
                if seconds <= bound:
                    row[index] += 1
            row[-2] += seconds
            row[-1] += 1

    def set_gauge(self, name: str, value: float | None) -> None:
        """Set (or, with None, drop: "not known") a gauge listed in _HELP."""
        with self._lock:
            if value is None:
                self._gauges.pop(name, None)
            else:
                self._gauges[name] = value

    def add_in_flight(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta

    def render(self) -> str:
        with self._lock:
            counters = {name: dict(series) for name, series in self._counters.items()}
            hist = {key: list(row) for key, row in self._hist.items()}
            gauges = {**self._gauges, IN_FLIGHT: self.in_flight}
        lines: list[str] = []
        for name, (kind, text) in _HELP.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            if kind == "counter":
                for key, value in sorted(counters.get(name, {}).items()):
                    lines.append(f"{name}{_labels(key)} {value:g}")
            elif kind == "gauge":
                if name in gauges:
                    lines.append(f"{name} {gauges[name]:g}")
            else:
                lines += self._render_histogram(name, hist)
        return "\n".join(lines) + "\n"

    @staticmethod
    def _render_histogram(name: str, hist: dict) -> list[str]:
        lines = []
        for key, row in sorted(hist.items()):
            for index, bound in enumerate(LATENCY_BUCKETS_S):
                lines.append(f"{name}_bucket{_labels(key + (('le', f'{bound:g}'),))} {row[index]}")
            lines.append(f"{name}_bucket{_labels(key + (('le', '+Inf'),))} {row[-1]}")
            lines.append(f"{name}_sum{_labels(key)} {row[-2]:.6f}")
            lines.append(f"{name}_count{_labels(key)} {row[-1]}")
        return lines
