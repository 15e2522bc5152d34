"""Routing: which agent should handle a task, and how sure we are.

Open `decision.py` first: `route()` gathers the evidence and decides the status. The evidence
comes from:
- `lexical.py`: trigger words and phrases, example words, near-miss spellings (the index);

Everything a route needs is fitted when the registry's index is built and cached with it.
This package is on the hot path of every `route_task`: keep imports to the standard library.
"""

from skills.routing.decision import route
from skills.routing.lexical import build_index, score_evidence

__all__ = ["build_index", "route", "score_evidence"]
