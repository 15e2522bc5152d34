"""Names from the agents' own data as routing evidence: contractors, projects, towns, PO numbers.

The path of a name: `sources.py` reads them from each agent's data (PostgreSQL tables, Convex);
`refresh.py` decides when to read them again (bin/refresh_entities, the TTL) and writes them
into the routing inputs; `index.py` builds their tables when the routing index is built
(words, whole names, record-number formats); `evidence.py` finds them in a task at route time.
"""
