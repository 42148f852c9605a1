"""The neutral message types survive the store's dict form, thinking blocks included."""

from __future__ import annotations

from app.providers.base import Message, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock


def test_every_block_kind_round_trips_through_dicts() -> None:
    message = Message(
        "assistant",
        (
            ThinkingBlock("plan it", "sig-1"),
            ThinkingBlock("", None, "opaque-redacted"),
            TextBlock("Creating the track."),
            ToolUseBlock("t1", "create_track", {"name": "Python"}),
            ToolUseBlock("t2", "create_track", {}, "tool arguments are not valid JSON"),
        ),
    )
    assert Message.from_dict(message.to_dict()) == message
    result = Message("user", (ToolResultBlock("t1", "done", is_error=True),))
    assert Message.from_dict(result.to_dict()) == result


def test_thinking_is_not_part_of_the_answer_text() -> None:
    message = Message("assistant", (ThinkingBlock("secret plan", "s"), TextBlock("Hello")))
    assert message.text == "Hello"
    assert message.to_dict()["content"][0] == {
        "type": "thinking",
        "thinking": "secret plan",
        "signature": "s",
    }
