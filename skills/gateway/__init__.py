"""What the HTTP API, the MCP server and the async worker share: the scripts behind a service.

Open `service.py` first: `Service` turns a request into a script run and a `Reply`
(status and JSON), with no protocol in it. Beside it:
- `workers.py`: warm `--jsonl` script workers (`WorkerPool`) or one process per call
  (`OneShotRunner`); both are a `Runner`;
- `claimer.py`: `TaskClaimer`, which claims queued async tasks from the store and runs them;
- `validation.py`: each request's fields checked before any script runs;
- `guards.py`: API key, CORS, rate limits and the cap on requests in flight;
- `metrics.py`, `logs.py`, `state_health.py`: counters, log lines, the state directory's health.
skills/server/ (HTTP) and skills/mcp/ (MCP) are the protocols on top of this package.
"""
