"""Pricing: hand-computed costs (cache tokens included) from genai-prices' list prices, id
matching, the override file winning over the catalog, bad override files."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.config import PROJECT_ROOT, Settings
from app.usage.pricing import PricingTable
from app.usage.usage import Usage

SHIPPED = PROJECT_ROOT / "app" / "usage" / "price_overrides.json"


@pytest.fixture(scope="module")
def table() -> PricingTable:
    loaded = PricingTable.load(SHIPPED)
    assert loaded.error is None
    return loaded


# -- costs against hand-computed figures ---------------------------------------------------------


def test_sonnet_5_5_with_cache_writes_and_reads(table: PricingTable) -> None:
    usage = Usage(input_tokens=1_000, output_tokens=100, cache_write_tokens=200, cache_read_tokens=3_000)
    # input        1,000 x $2.00 / 1M = $0.0020
    # output         100 x $10.00 / 1M = $0.0010
    # cache write    200 x $2.50 / 1M = $0.0005
    # cache read   3,000 x $0.10 / 1M = $0.0003
    assert table.cost("claude-sonnet-5-5", usage) == Decimal("0.0038")


def test_opus_5_5(table: PricingTable) -> None:
    usage = Usage(
        input_tokens=12_000, output_tokens=1_500, cache_write_tokens=4_000, cache_read_tokens=50_000
    )
    # 12,000 x $4 = $0.048;  1,500 x $20 = $0.030;  4,000 x $5 = $0.020;  50,000 x $0.20 = $0.010
    assert table.cost("claude-opus-5-5", usage) == Decimal("0.108")


def test_haiku_5_5_short_and_long_prompt_bands(table: PricingTable) -> None:
    short = Usage(
        input_tokens=80_000, output_tokens=2_000, cache_write_tokens=10_000, cache_read_tokens=9_000
    )
    # prompt = 80,000 + 10,000 + 9,000 = 99,000 <= 100,000: the low band
    # 80,000 x $0.10 = $0.008;  2,000 x $0.50 = $0.001;  10,000 x $0.125 = $0.00125;
    # 9,000 x $0.01 = $0.00009;  total $0.01034
    assert table.cost("claude-haiku-5-5", short) == Decimal("0.01034")

    edge = Usage(
        input_tokens=80_000, output_tokens=2_000, cache_write_tokens=10_000, cache_read_tokens=10_000
    )
    # prompt = exactly 100,000: still the low band; 10,000 x $0.01 = $0.0001 -> $0.01035
    assert table.cost("claude-haiku-5-5", edge) == Decimal("0.01035")

    long = Usage(
        input_tokens=80_000, output_tokens=2_000, cache_write_tokens=10_000, cache_read_tokens=10_001
    )
    # prompt = 100,001 > 100,000: every token of the call at the high band
    # 80,000 x $0.50 = $0.04;  2,000 x $2.50 = $0.005;  10,000 x $0.625 = $0.00625;
    # 10,001 x $0.05 = $0.00050005;  total $0.05175005
    assert table.cost("claude-haiku-5-5", long) == Decimal("0.05175005")


def test_openai_cached_input_is_priced_as_cache_read(table: PricingTable) -> None:
    # The OpenAI provider moves cached prompt tokens out of input into cache_read_tokens.
    usage = Usage(input_tokens=600, output_tokens=250, cache_read_tokens=400)
    # 600 x $2 = $0.0012;  250 x $8 = $0.002;  400 x $0.50 = $0.0002;  total $0.0034
    assert table.cost("gpt-4.1", usage) == Decimal("0.0034")


def test_a_dated_snapshot_id_is_priced_as_its_model(table: PricingTable) -> None:
    usage = Usage(
        input_tokens=100_000, output_tokens=10_000, cache_write_tokens=20_000, cache_read_tokens=50_000
    )
    # prompt 170,000 <= 200,000: 100,000 x $3 = $0.30;  10,000 x $15 = $0.15;
    # 20,000 x $3.75 = $0.075;  50,000 x $0.30 = $0.015;  total $0.54
    assert table.cost("claude-sonnet-4-5-20250929", usage) == Decimal("0.54")


def test_sonnet_4_5_long_prompt_rates(table: PricingTable) -> None:
    usage = Usage(
        input_tokens=150_000, output_tokens=10_000, cache_write_tokens=20_000, cache_read_tokens=50_000
    )
    # prompt 220,000 > 200,000: 150,000 x $6 = $0.90;  10,000 x $22.50 = $0.225;
    # 20,000 x $7.50 = $0.15;  50,000 x $0.60 = $0.03;  total $1.305
    assert table.cost("claude-sonnet-4-5", usage) == Decimal("1.305")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-haiku-4-5@20251001", "claude-haiku-4-5"),  # Vertex
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),  # Bedrock
        ("anthropic/claude-sonnet-5-5", "claude-sonnet-5-5"),  # gateways
        ("claude-sonnet-5-5[1m]", "claude-sonnet-5-5"),
        ("  Claude-Sonnet-5-5 ", "claude-sonnet-5-5"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("claude-opus-5-7", None),  # a newer model never borrows an older one's price
        ("claude-opus-5-5-preview", None),
        ("llama3.1:8b", None),
        ("", None),
    ],
)
def test_resolve(table: PricingTable, model: str, expected: str | None) -> None:
    assert table.resolve(model) == expected
    assert table.has_price(model) is (expected is not None)


def test_unknown_model_costs_none_and_warns_once(
    table: PricingTable, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.usage.pricing"):
        assert table.cost("my-finetune-v7", Usage(10, 10)) is None
        assert table.cost("my-finetune-v7", Usage(10, 10)) is None
    assert sum("my-finetune-v7" in r.getMessage() for r in caplog.records) == 1


def test_cost_never_raises(table: PricingTable) -> None:
    assert table.cost(None, Usage(1, 1)) is None  # type: ignore[arg-type]
    assert table.cost("claude-sonnet-5-5", "not usage") is None  # type: ignore[arg-type]


def test_zero_usage_costs_zero(table: PricingTable) -> None:
    assert table.cost("claude-sonnet-5-5", Usage()) == 0


# -- the shipped override file and the catalog ------------------------------------------------


def test_shipped_override_file_is_valid_and_says_what_it_is_for() -> None:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert data["note"] and data["models"] == {} and data["aliases"] == {}


def test_the_catalog_prices_the_current_models_and_the_configured_defaults(table: PricingTable) -> None:
    for model in ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "gpt-6-sol", "gpt-4.1"):
        assert table.has_price(model), model
    # The defaults in code, not whatever this machine's environment overrides them with.
    assert table.has_price(Settings.model_fields["anthropic_model"].default)
    assert table.has_price(Settings.model_fields["openai_model"].default)


def test_an_override_wins_over_the_list_price_and_prices_what_the_catalog_lacks(tmp_path: Path) -> None:
    negotiated = {**GOOD_ENTRY, "provider": "anthropic"}
    path = write(tmp_path, {"models": {"claude-sonnet-5-5": negotiated, "our-finetune": GOOD_ENTRY}})
    table = PricingTable.load(path)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert table.cost("claude-sonnet-5-5", usage) == Decimal("3")  # $1 + $2, not the list $2 + $10
    assert table.cost("our-finetune", usage) == Decimal("3")
    assert table.cost("claude-opus-5-5", usage) == Decimal("24")  # list price: $4 + $20


def test_only_anthropic_and_openai_list_prices_are_used(table: PricingTable) -> None:
    """A model served by anything else (Ollama, a local model) has no list price."""
    usage = Usage(input_tokens=1000, output_tokens=1000)
    assert table.cost("gpt-4.1", usage, "openai") is not None
    assert table.cost("gpt-4.1", usage, "local") is None
    assert table.cost("llama3.1:8b", usage, "openai") is None
    assert table.cost("claude-sonnet-5-5", usage, "anthropic") == table.cost("claude-sonnet-5-5", usage)


# -- bad files -----------------------------------------------------------------------------------


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "pricing.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


GOOD_ENTRY = {"input": "1", "output": "2", "cache_write": "1.25", "cache_read": "0.1"}


@pytest.mark.parametrize(
    "content",
    [
        "{ this is not json",
        "[]",
        {"models": []},
        {"models": {"m": {"input": "1", "output": "2"}}},  # missing cache rates
        {"models": {"m": {**GOOD_ENTRY, "input": "-1"}}},
        {"models": {"m": {**GOOD_ENTRY, "input": "cheap"}}},
        {"models": {"m": {**GOOD_ENTRY, "input": True}}},
        {"models": {"m": {**GOOD_ENTRY, "input": "NaN"}}},
        {"models": {"m": GOOD_ENTRY, "ok": {**GOOD_ENTRY, "long_prompt": {"threshold_tokens": 0}}}},
        {"models": {"m": GOOD_ENTRY}, "aliases": {"m-2025": "missing"}},
    ],
)
def test_a_bad_file_prices_everything_as_none_with_a_warning(
    tmp_path: Path, content: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.usage.pricing"):
        table = PricingTable.load(write(tmp_path, content))
    assert table.error is not None
    assert table.cost("m", Usage(1000, 1000)) is None
    assert table.cost("claude-sonnet-5-5", Usage(1000, 1000)) is None
    assert not table.has_price("m")
    assert any("cannot use pricing file" in r.getMessage() for r in caplog.records)


def test_a_missing_file_prices_everything_as_none(tmp_path: Path) -> None:
    table = PricingTable.load(tmp_path / "nope.json")
    assert table.error is not None and table.cost("claude-sonnet-5-5", Usage(1, 1)) is None


def test_a_minimal_valid_file_with_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path, '{"models": {"m": {"input": 0.1, "output": 0.3, "cache_write": 0.125, "cache_read": 0.01}}}'
    )
    table = PricingTable.load(path)
    # 0.1 and 0.3 are read as exact decimals (not floats): 1M x $0.1 + 1M x $0.3 = $0.4 exactly
    assert table.cost("m", Usage(1_000_000, 1_000_000)) == Decimal("0.4")
