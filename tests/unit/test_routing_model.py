"""What routing learns from a registry: the example model, the calibrated thresholds, the public benchmark."""

import os

import pytest
import yaml

from skills.errors import RegistryInvalid
from skills.registry.loader import load_registry, write_routing_input
from skills.routing import route
from tests.fixtures.scripts import ROOT

BASE = {
    "name": "X",
    "category": "test",
    "description": "d",
    "status": "active",
    "model": "claude-haiku-4-5",
    "cost_per_query": 0.001,
}
CLINC = os.path.join(os.path.dirname(ROOT), "shared", "routing", "clinc150")

GARDEN = [
    "when should I water the tomatoes",
    "how deep do I plant potato seeds",
    "my roses have black spots on the leaves",
    "what fertiliser suits lemon trees",
    "is it too cold to sow carrots now",
    "how often should the lawn be mowed in summer",
    "why are my cucumber leaves turning yellow",
    "can I grow basil indoors over winter",
]
KITCHEN = [
    "how long do I roast a chicken for",
    "what can I use instead of eggs in pancakes",
    "how many grams of flour go into a cup",
    "give me a quick recipe for lentil soup",
    "how do I stop rice from sticking to the pot",
    "what temperature should bread bake at",
    "can I freeze cooked pasta",
    "how much salt goes in pizza dough",
]


def registry_with(tmp_path, agents, name="agents.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"agents": [{**BASE, **agent} for agent in agents]}))
    return load_registry(str(path), str(tmp_path / "state"))


def two_domains(tmp_path, garden=GARDEN, kitchen=KITCHEN, name="agents.yaml"):
    return registry_with(
        tmp_path,
        [
            {"id": "garden", "triggers": ["garden", "plant"], "examples": garden},
            {"id": "kitchen", "triggers": ["cook", "recipe"], "examples": kitchen},
        ],
        name,
    )


def agent_of(result):
    return result["agent"]["agent_id"] if result["agent"] else None


def test_examples_route_requests_without_trigger_words(tmp_path):
    registry = two_domains(tmp_path)
    assert agent_of(route(registry, "my tomato leaves are turning brown", auto_select=True)) == "garden"
    assert agent_of(route(registry, "how long should a chicken roast", auto_select=True)) == "kitchen"


def test_unrelated_request_sharing_one_word_is_refused(tmp_path):
    registry = two_domains(tmp_path)
    # "summer" is in a garden example, the rest is foreign to both agents
    result = route(registry, "which football team won the summer championship final", auto_select=True)
    assert result["status"] == "no_match"


def test_threshold_follows_the_examples(tmp_path):
    fewer = two_domains(tmp_path, GARDEN[:3], KITCHEN[:3], "few.yaml")["index"]
    more = two_domains(tmp_path, GARDEN, KITCHEN, "more.yaml")["index"]
    assert fewer["header"]["samples"]["examples"] == 6
    assert more["header"]["samples"]["examples"] == 16
    assert fewer["header"]["threshold"] != more["header"]["threshold"]


def test_known_unrelated_requests_raise_the_bar(tmp_path):
    registry = two_domains(tmp_path)
    state = str(tmp_path / "state")
    before = registry["index"]["header"]["threshold"]
    # confirmed "nothing should have taken this" corrections that read a lot like both agents
    unrelated = [f"how long should the {thing} take to arrive by post" for thing in ("seeds", "pot", "flour", "lawn")]
    write_routing_input(state, "feedback", {"examples": {}, "unrelated": unrelated})
    after = load_registry(registry["path"], state)["index"]["header"]
    assert after["samples"]["unrelated"] == registry["index"]["header"]["samples"]["unrelated"] + 4
    assert after["threshold"] > before


def test_the_registrys_unrelated_list_raises_the_bar_like_corrections(tmp_path):
    agents = [
        {**BASE, "id": "garden", "triggers": ["garden", "plant"], "examples": GARDEN},
        {**BASE, "id": "kitchen", "triggers": ["cook", "recipe"], "examples": KITCHEN},
    ]
    unrelated = [f"how long should the {thing} take to arrive by post" for thing in ("seeds", "pot", "flour", "lawn")]
    plain, listed = tmp_path / "plain.yaml", tmp_path / "listed.yaml"
    plain.write_text(yaml.safe_dump({"agents": agents}))
    listed.write_text(yaml.safe_dump({"agents": agents, "unrelated": unrelated}))
    before = load_registry(str(plain), str(tmp_path / "state"))["index"]["header"]
    after = load_registry(str(listed), str(tmp_path / "state"))["index"]["header"]
    assert after["samples"]["unrelated"] == before["samples"]["unrelated"] + 4
    assert after["threshold"] > before["threshold"]


def test_an_unrelated_list_that_is_not_a_list_of_requests_is_refused(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(yaml.safe_dump({"agents": [{**BASE, "id": "garden", "triggers": ["garden"]}], "unrelated": [""]}))
    with pytest.raises(RegistryInvalid) as refused:
        load_registry(str(path), str(tmp_path / "state"))
    assert refused.value.field == "unrelated"


def test_confirmed_corrections_become_examples(tmp_path):
    registry = two_domains(tmp_path)
    task = "the aphids are back on the broad beans"
    assert agent_of(route(registry, task, auto_select=True)) != "kitchen"
    state = str(tmp_path / "state")
    write_routing_input(state, "feedback", {"examples": {"kitchen": [task]}, "unrelated": []})
    assert agent_of(route(load_registry(registry["path"], state), task, auto_select=True)) == "kitchen"


def test_trigger_weight_is_learnt_from_the_registry(tmp_path):
    # triggers that say nothing about the examples are not trusted; telling ones are
    noisy = registry_with(
        tmp_path,
        [
            {"id": "garden", "triggers": ["pasta", "bread", "flour"], "examples": GARDEN},
            {"id": "kitchen", "triggers": ["lawn", "roses", "carrots"], "examples": KITCHEN},
        ],
        "noisy.yaml",
    )
    telling = two_domains(tmp_path, name="telling.yaml")
    assert noisy["index"]["header"]["beta"] < telling["index"]["header"]["beta"]


def test_explain_shows_threshold_and_example_words(tmp_path):
    result = route(two_domains(tmp_path), "when should I water the roses", explain=True, auto_select=True)
    explain = result["agent"]["explain"]
    assert explain["raw_score"] >= explain["threshold"]
    assert "water" in explain["example_words"]


def test_public_benchmark_command_prints_one_table(script):
    run = script("benchmark_accuracy", "--k", "5", "--format", "json")
    rows = {row["set"]: row for row in run.json["rows"]}
    clinc = rows["CLINC150 val, K=5"]
    assert clinc["requests"] == 3100
    # well above the router before it learnt from examples (66.6% / 60.4% on test)
    assert clinc["in_scope_right"] >= 0.68
    assert clinc["unrelated_refused"] >= 0.85
    assert rows["FibreFlow dev set"]["accuracy"] == 1.0
    table = script("benchmark_accuracy", "--k", "5").stdout
    assert "CLINC150 val, K=5" in table and "FibreFlow dev set" in table


def test_a_misspelt_word_meets_the_word_in_the_examples(tmp_path):
    registry = two_domains(tmp_path)
    # "fertiliser" is only in a garden example; one letter changed, then one extra (its prefix
    # no longer matches either)
    for task in ("which fxrtiliser should I use", "which feertiliser should I use"):
        assert agent_of(route(registry, task, auto_select=True)) == "garden", task
    registry["index"]["near"] = {}
    assert agent_of(route(registry, "which fxrtiliser should I use", auto_select=True)) != "garden"


def test_calibration_scores_candidates_as_a_route_does():
    """Calibration scores each held-out request once for every trigger weight; its best agent and
    score must be the ones agent_score gives, to the last bit, or the thresholds miss the routes."""
    import random

    from skills.routing.calibration import BETAS, _Candidates
    from skills.routing.lexical import agent_score

    rng = random.Random(3)
    for _ in range(300):
        similarity = {rng.randrange(40): rng.random() for _ in range(rng.randrange(8))}
        lexical = {rng.randrange(40): rng.choice([0.65, 1.5, rng.random() * 3]) for _ in range(rng.randrange(4))}
        candidates = _Candidates(similarity, lexical)
        for beta in BETAS:
            scores = {
                p: agent_score(similarity.get(p, 0.0), lexical.get(p, 0.0), beta)
                for p in similarity.keys() | lexical.keys()
            }
            expected = max(scores.items(), key=lambda item: (item[1], -item[0])) if scores else (None, 0.0)
            assert candidates.best(beta) == expected
