"""Building the routing index: everything a route needs, fitted once per registry version.

The index joins the lexical tables (triggers, phrases, near-miss spellings), the example model
and its calibration (how much to trust triggers, and the thresholds). It is plain values in
str-keyed tables plus a small header, so it can be cached and read a row at a time.
"""

from __future__ import annotations

from skills.routing.calibration import calibrate
from skills.routing.feedback import corrections_table
from skills.routing.fitting import Fit
from skills.routing.lexical import build_lexical, collect, deletion_table
from skills.routing.model import content_words
from skills.routing.names.index import build_tables


def _feedback(inputs: dict) -> tuple[dict, list]:
    feedback = inputs.get("feedback") or {}
    examples = feedback.get("examples") if isinstance(feedback, dict) else None
    unrelated = feedback.get("unrelated") if isinstance(feedback, dict) else None
    unrelated = unrelated if isinstance(unrelated, list) else []
    return (examples if isinstance(examples, dict) else {}), unrelated + list(inputs.get("unrelated") or ())


def _at_once(work):
    """`in_background` without a second process: the work is done when its result is asked for."""
    return work


def build_index(agents: list[dict], inputs: dict | None = None, tables_done=None, in_background=None) -> dict:
    """The routing index of `agents`; `inputs` are what routing learnt outside the registry file
    (skills/registry/loader.py ROUTING_INPUTS): confirmed corrections become examples and known
    unrelated requests, entity names from the agents' data become evidence. `inputs["unrelated"]`
    is the registry's own `unrelated:` list, calibrated against like confirmed unrelated requests.

    For a writer on 2 cores: `in_background(work) -> result()` (skills/routing/forked.py's
    `start`) builds the trigger tables while the example model is fitted; `tables_done(index)` is
    called once the big tables are final and only read from then on, so they can be encoded
    while calibration runs (skills/routing/index_file_writer.py: ParallelWriter)."""
    inputs = inputs or {}
    extra_examples, unrelated = _feedback(inputs)
    lexical_tables = (in_background or _at_once)(lambda: build_lexical(agents, example_words=False, near=False))
    fit = Fit(agents, extra_examples)
    features = fit.table()
    index = lexical_tables()
    index["features"] = features
    # one deletion table serves both sides' misspellings: trigger terms and example words
    index["near"] = deletion_table(dict.fromkeys([*index["postings"], *content_words(index["features"])]))
    index["header"] = {"max_idf": fit.max_idf}
    if tables_done is not None:
        tables_done(index)

    def lexical(task: str) -> dict[int, float]:
        return {position: evidence.score for position, evidence in collect(task, index, False).items()}

    calibration = calibrate(fit, index["features"], lexical, [t for t in unrelated if isinstance(t, str)])
    index["thresholds"] = calibration.pop("agents")
    index["corrections"] = corrections_table(agents, inputs)  # confirmed verdicts decide their own tasks
    index["header"].update(calibration)
    index["header"]["corrections"] = len(index["corrections"])  # 0: route() need not look (or import)
    index.update(build_tables(agents, inputs.get("entities")))
    return index
