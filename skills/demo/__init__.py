"""The demo: a FibreFlow database on a local PostgreSQL, and `bin/demo`, the main job on defaults.

`database.py` starts a private PostgreSQL cluster in the state directory and loads
registry/demo/schema.sql with rows from `data.py` (a fixed-seed generator over
registry/demo/seed.yaml); `database_command.py` is `bin/demo_database`, `command.py` is `bin/demo`.
No product module imports this package (a test checks).
"""
