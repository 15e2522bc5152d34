"""What the data agents reach: PostgreSQL, Convex, and the servers they watch over SSH.

Open `database.py` first: `ReadOnlySession` is how every SQL tool talks to PostgreSQL, and
`sql_guard.py` decides which statements may run at all. Beside them:
- `convex.py`: the Convex HTTP API client (queries and mutations of the task agent);
- `hosts.py`: the servers a person lists in registry/servers.yaml (name, address, user);
- `ssh.py`: running allow-listed commands on those hosts (paramiko), or on this machine;
- `hostmetrics.py`: reading CPU, memory, disk and services from what those commands print.
Nothing here knows about routing, HTTP or the ledger.
"""
