"""The HTTP API: a thin stdlib server over the bin/ scripts (see skills/server/app.py)."""
