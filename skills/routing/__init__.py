"""Routing: which agent should handle a task, and how sure we are.

Open `decision.py` first: `route()` gathers the evidence and decides the status. The evidence
comes from:
- `model.py`: similarity to the agent's examples (and its triggers, and confirmed corrections);
- `lexical.py`: trigger words and phrases, weak triggers, near-miss spellings;
- `feedback.py`: a confirmed correction decides the very task it was given for;
- `names/evidence.py`: names from the agents' own data (contractors, projects, towns, tables), read
  by `names/sources.py` into the `entities` routing input (`names/index.py` builds their tables);
`fitting.py` fits the example model, `calibration.py` how much triggers count and each agent's
threshold from held-out examples; `index.py` builds it all once per registry version (the
writer of the index file puts a second core to work through `forked.py`).

When the decision is unsure, skills/execution/fallback.py can settle it afterwards with one
forced-choice call to the cheapest model (`settle`, called by the commands, never by `route`; it
imports the SDK only when it calls).

`index_file.py` reads the built index from a file a fresh process reads piece by piece (a route
needs a few postings, not the whole index), used by skills/registry/loader.py's `load_registry`;
`index_file_writer.py` writes that file when the index is built (never loaded by a route).

Everything a route needs is fitted when the registry's index is built and cached with it.
This package is on the hot path of every `route_task`: keep imports to the standard library, and
out of a route the modules that only building needs (index, fitting, calibration, the writer: the
registry loader reaches them through skills/lazy.py).
"""

from skills.routing.decision import route
from skills.routing.lexical import score_evidence

__all__ = ["route", "score_evidence"]  # building the index: skills.routing.index.build_index
