"""Running a task on an agent: with the model, or offline with the agent's own tools.

Open `execute.py` first: `execute()` picks the mode (Claude when a key is set and the agent has a
model, the offline path otherwise), runs it, prices it and records it in the ledger. Beside it:
- `claude_loop.py`: the tool-use loop over the Anthropic Messages API;
- `tools.py`: `@tool`, the schema derived from a function's signature, and loading
  agents/<id>/tools.py;
- `readiness.py`: whether an agent's data sources are set up (what list_agents shows);
- `fallback.py`: when routing is unsure, one forced-choice call to the cheapest model settles it;
- `smart.py`: smart execute (route, settle, run), where data agents settle routing's doubt by reading;
- `data.py`: a data agent's question read by the interpreter and answered, or refused in words;
- `request.py`: what one request does once (a task read once per data agent within smart execute).
"""
