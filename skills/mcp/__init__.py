"""The MCP server (bin/orchestrator_mcp): the orchestrator's scripts as tools for any MCP client.

Open server.py first (the SDK wiring and the two transports: stdio, streamable HTTP). What the
tools, resources and prompt do is in tools.py and resources.py (no MCP types there); http.py
guards the HTTP transport (Origin, API key, CORS). Only server.py imports the `mcp` SDK, an
optional extra (`pip install -e '.[mcp]'`, done by bin/setup).
"""
