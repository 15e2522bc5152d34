"""The Claude loop when someone watches it: the SDK's streaming API against the double's streaming wire format."""

from __future__ import annotations

import pytest

from skills import progress
from skills.errors import UpstreamUnavailable
from tests.fixtures.fake_anthropic import cut_mid_answer, reply_error, reply_text, reply_tool_use
from tests.unit.test_claude_loop import run, settings_for


def watched(settings, **kwargs):
    events: list[tuple[str, dict]] = []
    with progress.sending_to(lambda name, data: events.append((name, data))):
        outcome = run(settings, **kwargs)
    return outcome, events


def test_a_watched_loop_streams_text_deltas_and_tool_steps_in_order(fake_anthropic):
    fake_anthropic.script(
        [
            reply_tool_use(
                "add_numbers", {"a": 2, "b": 3}, text="Let me add them.", input_tokens=100, output_tokens=30
            ),
            reply_text("2 + 3 is 5, as the tool says.", input_tokens=150, output_tokens=12),
        ]
    )
    outcome, events = watched(settings_for(fake_anthropic))

    assert all(body.get("stream") is True for body in fake_anthropic.bodies)  # the streaming API was used
    names = [name for name, _ in events]
    first_text = names.index("text")
    assert names.index("tool_started") > first_text  # the sentence before the tool call streams first
    assert names.index("tool_finished") == names.index("tool_started") + 1
    pieces = [data["text"] for name, data in events if name == "text"]
    assert len(pieces) > 2  # deltas, not one block
    assert "".join(pieces) == "Let me add them." + "2 + 3 is 5, as the tool says."
    finished = dict(events)["tool_finished"]
    assert finished["name"] == "add_numbers" and finished["arguments"] == {"a": 2, "b": 3} and finished["ok"] is True
    assert finished["duration_ms"] >= 0
    # the final message is the one `create` would have given: same text, usage and turns
    assert outcome.text == "2 + 3 is 5, as the tool says."
    assert outcome.usage == {"input_tokens": 250, "output_tokens": 42}
    assert outcome.turns == 2 and outcome.stop_reason == "end_turn"
    # the tool's input arrived as pieces of JSON and was put together again for the next turn
    assert fake_anthropic.bodies[1]["messages"][1]["content"][1]["input"] == {"a": 2, "b": 3}


def test_an_unwatched_loop_keeps_the_plain_call(fake_anthropic):
    fake_anthropic.script([reply_text("plain")])
    outcome = run(settings_for(fake_anthropic))
    assert outcome.text == "plain"
    assert "stream" not in fake_anthropic.bodies[0]


def test_a_failed_tool_is_a_tool_finished_that_is_not_ok(fake_anthropic):
    fake_anthropic.script([reply_tool_use("ping_host", {"host": "db1"}), reply_text("db1 does not answer.")])
    _, events = watched(settings_for(fake_anthropic))
    finished = dict(events)["tool_finished"]
    assert finished["ok"] is False and finished["code"] == "upstream_unavailable" and "db1" in finished["error"]


def test_a_streamed_answer_that_breaks_off_is_upstream_unavailable(fake_anthropic):
    fake_anthropic.script([cut_mid_answer()])
    with pytest.raises(UpstreamUnavailable):
        watched(settings_for(fake_anthropic))


def test_an_api_error_on_a_streamed_call_is_mapped_as_on_a_plain_one(fake_anthropic):
    fake_anthropic.script([reply_error(400, "invalid_request_error", "bad request", retry_after=None)])
    with pytest.raises(UpstreamUnavailable, match="HTTP 400 invalid_request_error: bad request"):
        watched(settings_for(fake_anthropic))
