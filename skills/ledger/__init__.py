"""The ledger: every execution recorded, and what is learnt from it.

Open `records.py` first: recording a run (task, agent, mode, timings, tokens, cost) into the
store. `stats.py` turns the records into workforce_stats (per agent calls, success, latency,
cost); `corrections.py` keeps the routes a person corrected (bin/route_feedback), which routing
learns from. The rows live in skills/store/ (SQLite or PostgreSQL).
"""
