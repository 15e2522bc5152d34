"""The FibreFlow Orchestrator's code: a task in plain words routed to an agent and run there.

Where to start: a script in bin/ calls one module of `commands/` (route_task.py is the shortest
path through the house: arguments in, `routing.route()`, JSON out); `execute_agent.py` then shows
how a task reaches `execution.execute()`. Each package's `__init__.py` is its own map and says
which module to open first.

Small shared pieces, here at the top:
- `config.py`: every setting, read once from the environment and `.env` into `Settings`;
- `errors.py`: one error type per failure a user can act on, each with its code, exit status and
  HTTP status;
- `cli.py`: what every script shares (options, `--json -`, `--jsonl`, JSON out, exit codes);
- `text.py`: the word normaliser routing and tool picking share;
- `jsonout.py`, `json_limits.py`: compact JSON out, and what JSON in may hold;
- `redaction.py`: secrets masked in output, logs and the ledger;
- `file_cache.py`: small files parsed again only when they change.

The layers, each a package (no import circles between them: tests/unit/test_layers.py):
- `registry/`: registry/agents.yaml loaded, checked and cached with its routing index;
- `routing/`: which agent takes a task and how sure it is; `routing/names/` the agents' own data
  (contractors, projects, tables) as evidence;
- `execution/`: running an agent, with the model's tool loop or offline with its tools;
- `answers/`: the data agents' offline planners and shared tools;
- `backends/`: what the agents reach (read-only PostgreSQL, Convex, servers over SSH);
- `ledger/`: every run recorded, and the statistics and routing corrections drawn from it;
- `store/`: where state outlives a process, SQLite or PostgreSQL behind one interface;
- `gateway/`: what the HTTP API, the MCP server and the async worker share (service, workers,
  task claimer);
- `server/` (HTTP), `mcp/` (Model Context Protocol): the protocols over the gateway;
- `commands/`: one module per product script in bin/.

Not product, and no product module imports them (the same test checks): `bench/`
(benchmarks), `demo/` (the demo database and bin/demo), `evaluation/` (routing and answer scores).
The reference for users is README.md and docs/.
"""
