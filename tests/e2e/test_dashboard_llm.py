"""The dashboard with Claude: the real anthropic SDK in the dashboard's process, pointed at a local
server that speaks the Messages API and streams slowly, so a running turn can be watched and stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.fakes.anthropic_server import FakeAnthropicServer, reply_text, usage

from .conftest import Dashboard, shoot, start_dashboard, stop_dashboard

LONG_ANSWER = (
    "Instructors can hold one of two roles on a course. The owner created it and may edit, publish and "
    "delete it; an assigned instructor teaches it and may grade the students enrolled in it [S1]. "
) * 6


@pytest.fixture(scope="module")
def claude() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(api_key="test-key") as server:
        yield server


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, seeded_sandbox_db: Path, sandbox_index: Path,
              claude: FakeAnthropicServer) -> Iterator[Dashboard]:  # fmt: skip
    running = start_dashboard(
        tmp_path_factory.mktemp("e2e-claude"), seeded_sandbox_db, sandbox_index,
        LLM_PROVIDER="anthropic", ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=claude.base_url,
        LLM_MAX_RETRIES="0",
    )  # fmt: skip
    yield running
    stop_dashboard(running)


def test_a_streamed_answer_can_be_stopped_and_what_it_cost_is_shown(
    page: Any, dashboard: Dashboard, claude: FakeAnthropicServer
) -> None:
    claude.enqueue(
        reply_text(
            LONG_ANSWER, chunk_size=12, chunk_delay=0.25, usage=usage(input_tokens=1400, output_tokens=240)
        ),
        reply_text(
            "The owner of a course edits and publishes it; assigned instructors teach it [S1].",
            usage=usage(input_tokens=900, output_tokens=40, cache_read_input_tokens=1500),
        ),
    )
    page.goto(dashboard.url)
    page.get_by_role("button", name="Maya Patel · Organization admin").click()
    expect(page.get_by_text("Claude (claude-sonnet-5-5)")).to_be_visible()
    box = page.get_by_placeholder("Ask about the platform, or ask for a change ...")
    box.fill("What roles can an instructor have on a course? Explain in detail.")
    box.press("Enter")

    # The answer streams for about 30 s: on a loaded 2-core machine the page's first redraws (the
    # retrieval, then the full rerun when the context arrives) took most of a 14 s stream once.
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    expect(page.get_by_text("Instructors can hold one of two roles").first).to_be_visible()  # streaming
    shoot(page, "08-streaming")
    stop.click()
    expect(page.get_by_text("Stopped. What was written so far is kept").first).to_be_visible()
    assert claude.wait_for_disconnect(10), "Stop closes the model's stream"
    expect(
        page.get_by_text("Instructors can hold one of two roles").first
    ).to_be_visible()  # the partial answer stays

    box.fill("Who may publish a course?")
    box.press("Enter")
    expect(page.get_by_text("The owner of a course edits and publishes it").first).to_be_visible()
    page.get_by_role("tab", name="This conversation").click()
    expect(page.get_by_text("Tokens per turn")).to_be_visible()
    cost = page.get_by_test_id("stMetric").filter(has_text="Cost").get_by_test_id("stMetricValue")
    expect(cost).to_contain_text("$")
    assert cost.inner_text() not in ("$0.00", "unpriced")  # Sonnet 5.5 has a price
    shoot(page, "09-usage-with-claude", height=1300)
