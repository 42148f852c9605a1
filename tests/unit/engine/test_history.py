"""History repair (every call paired, orphans dropped, roles merged) and condensing within a budget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.conversation.history import (
    NOT_RUN,
    SUMMARY_MAX_CHARS,
    History,
    build_history,
    keep_valid_thinking,
    merge_roles,
    prefix_digest,
    repair,
)
from app.conversation.prompt import summary_block
from app.providers.base import Message, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from app.tools.spec import ToolSpec

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def user_text(text: str) -> Message:
    return Message.user(text)


def calls(*ids: str, text: str = "") -> Message:
    blocks = ((TextBlock(text),) if text else ()) + tuple(
        ToolUseBlock(i, "find_project", {"name": i}) for i in ids
    )
    return Message("assistant", blocks)


def results(*ids: str) -> Message:
    return Message("user", tuple(ToolResultBlock(i, f"result {i}") for i in ids))


def shape(messages: list[Message]) -> list[tuple[str, list[str]]]:
    """Each message as (role, [block summaries]) for readable assertions."""
    out: list[tuple[str, list[str]]] = []
    for m in messages:
        parts = []
        for b in m.content:
            if isinstance(b, TextBlock):
                parts.append(f"text:{b.text}")
            elif isinstance(b, ToolUseBlock):
                parts.append(f"call:{b.id}")
            elif isinstance(b, ToolResultBlock):
                parts.append(f"{'NOT_RUN' if b.content == NOT_RUN else 'result'}:{b.tool_use_id}")
        out.append((m.role, parts))
    return out


def test_a_well_formed_history_is_unchanged() -> None:
    history = [user_text("hi"), calls("a"), results("a"), Message.assistant("done")]
    assert repair(history) == history


def test_a_dangling_call_gets_a_not_run_result_before_the_next_user_text() -> None:
    fixed = repair([user_text("hi"), calls("a", "b"), user_text("next")])
    assert shape(fixed) == [
        ("user", ["text:hi"]),
        ("assistant", ["call:a", "call:b"]),
        ("user", ["NOT_RUN:a", "NOT_RUN:b", "text:next"]),
    ]
    assert all(b.is_error for b in fixed[2].content if isinstance(b, ToolResultBlock))


def test_a_dangling_call_at_the_end_is_answered() -> None:
    fixed = repair([user_text("hi"), calls("a")])
    assert shape(fixed)[-1] == ("user", ["NOT_RUN:a"])


def test_a_call_followed_by_another_assistant_message_is_answered_in_between() -> None:
    fixed = repair([user_text("hi"), calls("a"), Message.assistant("sorry")])
    assert shape(fixed) == [
        ("user", ["text:hi"]),
        ("assistant", ["call:a"]),
        ("user", ["NOT_RUN:a"]),
        ("assistant", ["text:sorry"]),
    ]


def test_a_partial_answer_keeps_the_real_result_and_fills_the_rest_in_call_order() -> None:
    fixed = repair([user_text("hi"), calls("a", "b"), results("b")])
    assert shape(fixed)[-1] == ("user", ["NOT_RUN:a", "result:b"])


def test_orphan_results_are_dropped() -> None:
    orphan = Message("user", (ToolResultBlock("zzz", "stale"), TextBlock("hello")))
    assert shape(repair([orphan])) == [("user", ["text:hello"])]
    # a message of orphans only disappears, and the neighbours of one role merge
    fixed = repair([user_text("hi"), Message.assistant("ok"), results("zzz"), user_text("more")])
    assert shape(fixed) == [("user", ["text:hi"]), ("assistant", ["text:ok"]), ("user", ["text:more"])]


def test_results_of_an_earlier_call_are_orphans_after_a_new_assistant_message() -> None:
    fixed = repair([user_text("hi"), calls("a"), Message.assistant("x"), results("a")])
    assert ("user", ["result:a"]) not in shape(fixed)


def test_same_role_neighbours_merge_with_results_first() -> None:
    merged = merge_roles([user_text("note"), results("a"), Message.assistant("x"), Message.assistant("y")])
    assert shape(merged) == [("user", ["result:a", "text:note"]), ("assistant", ["text:x", "text:y"])]


def test_a_history_never_starts_with_the_assistant() -> None:
    assert shape(merge_roles([Message.assistant("hello"), user_text("hi")])) == [("user", ["text:hi"])]


# --- build_history ------------------------------------------------------------------------------
class Records:
    """Stored messages with increasing seq, as the store returns them."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def add(self, message: Message, **metadata: Any) -> Records:
        from app.store.records import MessageData

        seq = len(self.items) + 1
        data = message.to_dict()
        self.items.append(MessageData(f"m{seq}", "c", seq, data["role"], data["content"], NOW, metadata))
        return self

    def exchange(self, question: str, answer: str, tool: str | None = None) -> Records:
        self.add(user_text(question))
        if tool:
            self.add(Message("assistant", (ToolUseBlock(f"t{len(self.items)}", tool, {}),)))
            self.add(Message("user", (ToolResultBlock(f"t{len(self.items) - 1}", "[]"),)))
        return self.add(Message.assistant(answer))


def chars(text: str) -> int:
    return len(text)


def spoken(history: History) -> list[str]:
    """The messages' texts after the summary, which leads the first message once there is one."""
    first = history.messages[0].content[0]
    assert first == TextBlock(summary_block(history.summary))
    return [m.text.removeprefix(first.text) for m in history.messages]


def test_everything_fits_nothing_is_summarized() -> None:
    records = Records().exchange("q1", "a1").exchange("q2", "a2").items
    history = build_history(records, "", 0, 10_000, chars)
    assert history.summary == "" and history.summarized_upto_seq == 0
    assert [m.text for m in history.messages] == ["q1", "a1", "q2", "a2"]


def test_old_exchanges_are_folded_into_the_summary_within_the_budget() -> None:
    rec = Records().exchange("Create a beginner track for Python", "Which project?", tool="find_project")
    rec.exchange("Data Science Foundations", "Proposed it.")
    rec.exchange("Thanks, what next?", "Add courses to the track.")
    last_group = rec.items[-2:]
    budget = sum(len(str(r.content)) for r in last_group) + 5  # room for the last exchange only
    history = build_history(rec.items, "", 0, budget, chars)
    assert spoken(history) == ["Thanks, what next?", "Add courses to the track."]
    assert history.summarized_upto_seq == rec.items[-3].seq  # the last record of the dropped exchanges
    assert history.summary == (
        "user: Create a beginner track for Python | tools: find_project | assistant: Which project? / "
        "user: Data Science Foundations | assistant: Proposed it."
    )


def test_the_last_exchange_is_kept_even_when_it_alone_exceeds_the_budget() -> None:
    records = Records().exchange("q1", "a1").exchange("x" * 500, "y" * 500).items
    history = build_history(records, "", 0, 10, chars)
    assert spoken(history) == ["x" * 500, "y" * 500]
    assert history.summary == "user: q1 | assistant: a1"


def test_an_existing_summary_is_extended_and_summarized_messages_are_skipped() -> None:
    rec = Records().exchange("q1", "a1").exchange("q2", "a2").exchange("q3", "a3")
    history = build_history(rec.items, "user: q0", 2, 16, chars)  # q1/a1 (seq 1-2) already summarized
    assert "q1" not in spoken(history)
    assert history.summary == "user: q0 / user: q2 | assistant: a2"
    assert history.summarized_upto_seq == 4
    assert spoken(history) == ["q3", "a3"]


def test_the_summary_is_capped() -> None:
    rec = Records()
    for i in range(40):
        rec.exchange(f"question {i} " + "w" * 150, f"answer {i} " + "v" * 150)
    history = build_history(rec.items, "", 0, 50, chars)
    assert len(history.summary) <= SUMMARY_MAX_CHARS + 3
    assert history.summary.startswith("...")
    assert "question 38" in history.summary  # the newest of the dropped exchanges survive


def test_a_stored_dangling_call_comes_back_repaired() -> None:
    rec = Records().add(user_text("hi")).add(calls("a")).add(user_text("again"))
    history = build_history(rec.items, "", 0, 10_000, chars)
    assert shape(history.messages) == [
        ("user", ["text:hi"]),
        ("assistant", ["call:a"]),
        ("user", ["NOT_RUN:a", "text:again"]),
    ]


# --- rendering: each stored message is sent the same way every time ------------------------------
def test_a_users_message_is_sent_after_its_turns_context_on_every_later_call() -> None:
    rec = Records().add(user_text("How do tracks work?"), context="<turn_context>facts</turn_context>")
    rec.add(Message.assistant("They group courses.")).add(user_text("Thanks"))
    history = build_history(rec.items, "", 0, 10_000, chars)
    first = history.messages[0]
    assert [b.text for b in first.content if isinstance(b, TextBlock)] == [
        "<turn_context>facts</turn_context>",
        "How do tracks work?",
    ]
    assert history.messages[-1].text == "Thanks"  # stored without context: sent without


def test_a_deferred_calls_result_is_replaced_by_its_decision() -> None:
    rec = Records().add(user_text("Create it")).add(calls("w"))
    rec.add(results("w"), kind="tool_results").add(user_text("ok?"))
    history = build_history(rec.items, "", 0, 10_000, chars, results={"w": '{"decision": "rejected"}'})
    result = history.messages[2].content[0]
    assert result == ToolResultBlock("w", '{"decision": "rejected"}')


def test_condensing_only_when_asked() -> None:
    rec = Records().exchange("q1", "a1").exchange("q2", "a2").exchange("q3", "a3")
    kept = build_history(rec.items, "", 0, 5, chars, condense=False)
    assert kept.summary == "" and [m.text for m in kept.messages] == ["q1", "a1", "q2", "a2", "q3", "a3"]
    condensed = build_history(rec.items, "", 0, 5, chars)
    assert condensed.summary and len(condensed.messages) == 2


def test_thinking_is_sent_back_only_while_everything_before_it_is_unchanged() -> None:
    tools = [ToolSpec("a", "d", {"type": "object"})]
    asked = [Message.user("q")]
    answer = Message("assistant", (ThinkingBlock("hmm", "sig"), TextBlock("a")))
    origins = {"sig": prefix_digest("sys", tools, asked)}
    kept = keep_valid_thinking("sys", tools, [*asked, answer, Message.user("next")], origins)
    assert kept[1] == answer
    changed = keep_valid_thinking("sys", tools, [Message.user("q!"), answer], origins)
    assert changed[1] == Message("assistant", (TextBlock("a"),))
    other_system = keep_valid_thinking("other", tools, [*asked, answer], origins)
    assert other_system[1] == Message("assistant", (TextBlock("a"),))
    unknown = keep_valid_thinking("sys", tools, [*asked, answer], {})
    assert unknown[1] == Message("assistant", (TextBlock("a"),))
