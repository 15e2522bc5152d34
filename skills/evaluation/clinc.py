"""A public routing benchmark: CLINC150's domains as agents, registered by the shared protocol.

`../shared/routing/clinc150/README.md` fixes the protocol: one agent per domain, triggers = the
words of its intents' names, examples = the first K training requests of each intent. The
registry is built through the ordinary registry code, so the router sees nothing CLINC-specific.
Scoring follows the protocol too: an in-scope request is right when routed (auto-select) to its
domain's agent; an out-of-scope one when the router refuses (no_match or multiple_matches).
"""

from __future__ import annotations

import json
import os

from skills.config import PROJECT_ROOT
from skills.errors import BadInput
from skills.registry.loader import build_registry, validate

DEFAULT_DIR = os.path.join(os.path.dirname(PROJECT_ROOT), "shared", "routing", "clinc150")


def _read_jsonl(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}", field="data") from None


def agent_id(domain: str) -> str:
    return domain.replace("_", "-")


def clinc_agents(data_dir: str, k: int) -> list[dict]:
    """Registry entries for the domains, written the way a user adds an agent."""
    try:
        with open(os.path.join(data_dir, "domains.json"), encoding="utf-8") as handle:
            domains = json.load(handle)
    except OSError as error:
        raise BadInput(f"cannot read {data_dir}/domains.json: {error.strerror}", field="data") from None
    per_intent: dict[str, list[str]] = {}
    for row in _read_jsonl(os.path.join(data_dir, "train.jsonl")):
        per_intent.setdefault(row["intent"], []).append(row["text"])
    agents = []
    for domain, intents in domains.items():
        words = list(dict.fromkeys(word for intent in intents for word in intent.split("_")))
        examples = [text for intent in intents for text in per_intent.get(intent, [])[:k]]
        agents.append(
            {
                "id": agent_id(domain),
                "name": domain.replace("_", " ").title(),
                "category": "clinc",
                "description": f"Requests about {domain.replace('_', ' ')}.",
                "status": "active",
                "model": "claude-haiku-4-5",
                "cost_per_query": 0.001,
                "triggers": words,
                "examples": examples,
            }
        )
    return agents


def clinc_registry(data_dir: str, k: int) -> dict:
    agents = validate({"version": 1, "agents": clinc_agents(data_dir, k)}, f"<clinc150 K={k}>")
    return build_registry(agents, f"<clinc150 K={k}>")


def score_split(registry: dict, data_dir: str, split: str = "val") -> dict:
    """In-scope routed right and out-of-scope refused, by the protocol, on one split."""
    from skills.routing import route

    in_scope = in_right = out_scope = out_refused = 0
    for row in _read_jsonl(os.path.join(data_dir, f"{split}.jsonl")):
        result = route(registry, row["text"], auto_select=True)
        if row["domain"] is None:
            out_scope += 1
            out_refused += result["status"] in ("no_match", "multiple_matches")
        else:
            in_scope += 1
            chosen = result["agent"]["agent_id"] if result.get("agent") else None
            in_right += result["status"] in ("routed", "high_confidence") and chosen == agent_id(row["domain"])
    return {
        "in_scope": in_scope,
        "in_scope_right": round(in_right / in_scope, 4) if in_scope else None,
        "out_of_scope": out_scope,
        "out_of_scope_refused": round(out_refused / out_scope, 4) if out_scope else None,
    }
