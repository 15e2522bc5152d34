"""Routing behaviour: words not substrings, inflections, phrases, weighting, statuses."""

import pytest
import yaml

from skills.registry.loader import load_registry
from skills.routing import route

BASE = {
    "name": "X",
    "category": "test",
    "description": "d",
    "status": "active",
    "model": "claude-haiku-4-5",
    "cost_per_query": 0.001,
}


def make_registry(tmp_path, agents, name="agents.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"agents": [{**BASE, **a} for a in agents]}))
    return load_registry(str(path), str(tmp_path / "state"))


@pytest.fixture
def two_agents(tmp_path):
    return make_registry(
        tmp_path,
        [
            {
                "id": "servers",
                "name": "Server Agent",
                "triggers": ["server", "monitor", "health check", "cpu"],
                "examples": ["Is the web box responding quickly?"],
            },
            {
                "id": "data",
                "name": "Data Agent",
                "triggers": ["data", "contractor", "table"],
                "weak_triggers": ["report"],
            },
        ],
    )


def agent_of(result):
    return result["agent"]["agent_id"] if result["agent"] else None


def test_route_ignores_substring_matches(two_agents):
    assert route(two_agents, "the observer saw a dataset", auto_select=True)["status"] == "no_match"


def test_route_folds_case_punctuation_and_inflections(two_agents):
    assert agent_of(route(two_agents, "MONITORING the Servers!!", auto_select=True)) == "servers"
    assert agent_of(route(two_agents, "list our contractors", auto_select=True)) == "data"


def test_route_matches_multi_word_phrases(two_agents):
    result = route(two_agents, "run a health check", auto_select=True)
    assert agent_of(result) == "servers"
    assert "health check" in result["agent"]["matched_keywords"]
    # the words apart are not the phrase
    assert route(two_agents, "check my health", auto_select=True)["status"] == "no_match"


def test_route_counts_example_words_as_evidence(two_agents):
    # no trigger word at all: only the agent's example sentence speaks for it
    result = route(two_agents, "is the web box responding slowly", auto_select=True)
    assert agent_of(result) == "servers"
    assert result["agent"]["matched_keywords"] == []


def test_weak_trigger_alone_is_no_match(two_agents):
    assert route(two_agents, "write a report", auto_select=True)["status"] == "no_match"
    with_evidence = route(two_agents, "contractor report", auto_select=True)
    assert "report" in with_evidence["agent"]["matched_keywords"]


def test_shared_trigger_weighs_less_than_unique_one(tmp_path):
    registry = make_registry(
        tmp_path,
        [
            {"id": "a", "triggers": ["status", "server"]},
            {"id": "b", "triggers": ["status", "project"]},
            {"id": "c", "triggers": ["status", "invoice"]},
        ],
    )
    result = route(registry, "project status", auto_select=True, explain=True)
    assert agent_of(result) == "b"
    weights = {c["term"]: c["weight"] for c in result["agent"]["explain"]["contributions"]}
    assert weights["project"] > weights["status"]


def test_confidence_is_matched_trigger_count_and_score_is_normalised(two_agents):
    agent = route(two_agents, "check cpu on the server", auto_select=True)["agent"]
    assert agent["confidence"] == 2
    assert set(agent["matched_keywords"]) == {"cpu", "server"}
    assert 0 < agent["score"] < 1
    assert agent["confidence_level"] in ("high", "medium", "low")


def test_statuses_without_auto_select(two_agents):
    assert route(two_agents, "server cpu health check")["status"] == "high_confidence"
    tied = route(two_agents, "server data")
    assert tied["status"] == "multiple_matches"
    assert tied["agent"] is None
    assert {o["agent_id"] for o in tied["options"]} == {"servers", "data"}
    picked = route(two_agents, "server data", auto_select=True)
    assert picked["status"] == "routed" and picked["agent"] is not None


def test_no_match_offers_closest_agents_as_suggestions(two_agents):
    # "web box" shares words with one of the server agent's examples: too little to route on,
    # enough to suggest. A weak trigger alone ("report") is no evidence, so no suggestion.
    near = route(two_agents, "the web box please", auto_select=True)
    assert near["status"] == "no_match" and near["agent"] is None and near["message"]
    assert [s["agent_id"] for s in near["suggestions"]] == ["servers"]
    assert route(two_agents, "a report please", auto_select=True)["suggestions"] == []


def test_inactive_agents_are_never_chosen(tmp_path):
    registry = make_registry(
        tmp_path,
        [{"id": "off", "status": "inactive", "triggers": ["server"]}, {"id": "on", "triggers": ["database"]}],
    )
    alone = route(registry, "server", auto_select=True)
    assert alone["status"] == "no_match" and alone["suggestions"] == []  # nor suggested
    both = route(registry, "server database", auto_select=True)
    assert agent_of(both) == "on" and both["alternatives"] == []


def test_context_nudges_the_choice(tmp_path):
    registry = make_registry(
        tmp_path,
        [
            {"id": "a", "triggers": ["status"], "context": {"page": ["monitoring"]}},
            {"id": "b", "triggers": ["status"], "context": {"page": ["projects"]}},
        ],
    )
    assert agent_of(route(registry, "status", auto_select=True, context={"page": "monitoring"})) == "a"
    assert agent_of(route(registry, "status", auto_select=True, context={"page": "projects"})) == "b"
    # context alone never routes an unrelated request
    assert route(registry, "tell me a joke", auto_select=True, context={"page": "monitoring"})["status"] == "no_match"


def test_one_letter_typos_still_route_at_a_discount(two_agents):
    result = route(two_agents, "list the contractrs", auto_select=True, explain=True)
    assert agent_of(result) == "data"
    assert any("~" in c["term"] for c in result["agent"]["explain"]["contributions"])


def test_explain_lists_contributions_per_candidate(two_agents):
    result = route(two_agents, "server data", explain=True)
    for option in result["options"]:
        assert option["explain"]["raw_score"] > 0
        assert option["explain"]["contributions"]


@pytest.mark.parametrize(
    "task",
    [
        "what's the weather in Cape Town?",
        "write me a poem",
        "reserve a table for two tonight",
        "tips for a job interview",
    ],
)
def test_out_of_scope_requests_are_no_match_with_real_registry(task, script):
    run = script("route_task", "--task", task, "--auto-select")
    assert run.returncode == 1
    assert run.json["status"] == "no_match"


def test_ascii_text_splits_into_the_same_words_as_any_text():
    """words() folds ASCII text with a byte table (fast) and other text with str.translate: the
    same characters must fold the same way on both paths, or a task and a trigger would not meet."""
    from skills.text import _TO_SPACE, words

    tricky = [
        "Check CPU-usage on server#2!",
        "tabs\tand\nnew\x0blines\x0c and\x1cseparators\x1d\x1e\x1f here",
        '"quoted" (brackets) [more] {even_more} a/b\\c ~tilde~ `tick` @at ^caret |pipe|',
        "UPPER lower MiXeD 123 4.5 eth0",
        "",
    ]
    for text in tricky:
        assert text.isascii()
        assert words(text) == text.lower().translate(_TO_SPACE).split()
        assert words(text + "\u2014") == words(text)  # the same text down the non-ASCII path
