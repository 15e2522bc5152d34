"""Benchmarks: scripts that print figures (medians, ratios, p95), never part of the product.

Each `bin/benchmark_*` and `bin/soak` calls one module here: `routing.py` (route_task processes
and warm workers, big generated registries), `http.py` (the HTTP API against the original's
figures), `mcp.py`, `scale.py` (the ledger at size), `stats.py` (workforce_stats at size) and
`soak.py` (minutes of mixed traffic). No product module imports this package (a test checks).
"""
