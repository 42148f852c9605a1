"""The cost of one call's usage: list prices from genai-prices, under an override file.

Prices come from `genai-prices` (see `price_catalog`), the maintained database; the override file
(PRICING_FILE, app/usage/price_overrides.json by default) holds prices per million tokens for
models the catalog lacks and for negotiated rates, and wins over the catalog for the models it
names. Pricing must never fail a turn: `PricingTable.load` and `cost` never raise. A model the table does
not know costs `None` (shown as "unknown", never as zero), and a pricing file that cannot be read
or does not validate gives a table that prices everything as `None` and logs one warning saying
why, so a typo in the file is visible on the dashboard instead of silently dropping one model.

Model ids are matched exactly, then through the file's `aliases`, then after removing decorations
that do not change the price: a provider prefix (`anthropic/`, `anthropic.`), a snapshot date
(`-20250929`, `-2024-08-06`, `@20251001`), `-latest`, a Bedrock `-v1:0` suffix, a `[1m]` context
tag. There is deliberately no looser prefix matching: a future `claude-opus-5-7` must show as
unknown, not borrow Opus 5's price.

Money is `Decimal` throughout (prices are read from the file as exact decimals).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from app.usage.price_catalog import GenaiPriceCatalog
from app.usage.usage import Usage

log = logging.getLogger(__name__)

MILLION = Decimal(1_000_000)
RATE_FIELDS = ("input", "output", "cache_write", "cache_read")

_DECORATIONS = (
    re.compile(r"\[[^\]]*\]$"),  # claude-sonnet-5-5[1m]
    re.compile(r"-v\d+:\d+$"),  # Bedrock: ...-v1:0
    re.compile(r"@\d{8}$"),  # Vertex: claude-haiku-4-5@20251001
    re.compile(r"-\d{8}$"),  # Anthropic snapshot: -20250929
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # OpenAI snapshot: -2024-08-06
    re.compile(r"-latest$"),
)
_PROVIDER_PREFIX = re.compile(r"^(?:[\w.-]+/)+|^(?:anthropic|openai)\.")


class PricingFileError(ValueError):
    """The pricing file is not valid; raised by `from_dict`, caught (and logged) by `load`."""


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens for each kind of token."""

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal

    def cost(self, usage: Usage) -> Decimal:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_tokens * self.cache_write
            + usage.cache_read_tokens * self.cache_read
        ) / MILLION


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A model's rates; `long_prompt` replaces them for a call whose prompt exceeds the threshold."""

    model: str
    provider: str | None
    rates: Rates
    long_prompt_threshold: int | None = None
    long_prompt: Rates | None = None
    note: str | None = None

    def rates_for(self, usage: Usage) -> Rates:
        prompt = usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens
        threshold = self.long_prompt_threshold
        if self.long_prompt is not None and threshold is not None and prompt > threshold:
            return self.long_prompt
        return self.rates

    def cost(self, usage: Usage) -> Decimal:
        return self.rates_for(usage).cost(usage)


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PricingFileError(f"{where}: expected a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise PricingFileError(f"{where}: {value!r} is not a number") from exc
    if not number.is_finite() or number < 0:
        raise PricingFileError(f"{where}: {value!r} must be a finite price >= 0")
    return number


def _rates(entry: Mapping[str, Any], where: str) -> Rates:
    missing = [name for name in RATE_FIELDS if name not in entry]
    if missing:
        raise PricingFileError(f"{where}: missing {', '.join(missing)}")
    values = [_decimal(entry[name], f"{where}.{name}") for name in RATE_FIELDS]
    return Rates(*values)


def _model_price(model: str, entry: Any) -> ModelPrice:
    if not isinstance(entry, Mapping):
        raise PricingFileError(f"models.{model}: expected an object")
    threshold: int | None = None
    long_rates: Rates | None = None
    long = entry.get("long_prompt")
    if long is not None:
        if not isinstance(long, Mapping):
            raise PricingFileError(f"models.{model}.long_prompt: expected an object")
        raw = long.get("threshold_tokens")
        if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
            raise PricingFileError(
                f"models.{model}.long_prompt.threshold_tokens: expected a positive integer"
            )
        threshold, long_rates = raw, _rates(long, f"models.{model}.long_prompt")
    provider, note = entry.get("provider"), entry.get("note")
    return ModelPrice(
        model=model,
        provider=str(provider) if provider is not None else None,
        rates=_rates(entry, f"models.{model}"),
        long_prompt_threshold=threshold,
        long_prompt=long_rates,
        note=str(note) if note is not None else None,
    )


class PricingTable:
    """Model prices from the pricing file. Build with `load(path)`; look up with `cost`."""

    def __init__(
        self,
        prices: Mapping[str, ModelPrice] | None = None,
        aliases: Mapping[str, str] | None = None,
        *,
        source: tuple[str, ...] = (),
        checked: str | None = None,
        error: str | None = None,
        catalog: GenaiPriceCatalog | None = None,
    ) -> None:
        self._prices = {key.lower(): price for key, price in (prices or {}).items()}
        self._aliases = {key.lower(): target.lower() for key, target in (aliases or {}).items()}
        self.source = source
        self.checked = checked
        #: Why the file could not be used (then every model is unpriced); None when it loaded.
        self.error = error
        #: List prices for models the file does not name (None: the file alone).
        self.catalog = catalog
        self._warned: set[str] = set()

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, *, catalog: GenaiPriceCatalog | None = None) -> PricingTable:
        """Read the override file over the catalog (genai-prices unless another is given).

        Never raises: a bad file gives a table that prices everything as unknown, with a warning
        (list prices would silently replace the negotiated ones it was meant to hold).
        """
        try:
            with Path(path).open(encoding="utf-8") as handle:
                data = json.load(handle, parse_float=Decimal)
            return cls.from_dict(data, catalog=catalog or GenaiPriceCatalog())
        except Exception as exc:  # unreadable, not JSON, invalid: pricing must never fail start-up
            reason = f"cannot use pricing file {path}: {exc}"
            log.warning("%s; every model is priced as unknown until it is fixed", reason)
            return cls(error=reason)

    @classmethod
    def from_dict(cls, data: Any, *, catalog: GenaiPriceCatalog | None = None) -> PricingTable:
        """Validate the file's content; raises PricingFileError on the first problem."""
        if not isinstance(data, Mapping) or not isinstance(data.get("models"), Mapping):
            raise PricingFileError("expected an object with a 'models' object")
        prices = {str(model): _model_price(str(model), entry) for model, entry in data["models"].items()}
        aliases = data.get("aliases") or {}
        if not isinstance(aliases, Mapping):
            raise PricingFileError("'aliases' must be an object")
        lowered = {key.lower() for key in prices}
        for alias, target in aliases.items():
            if not isinstance(target, str) or target.lower() not in lowered:
                raise PricingFileError(f"alias {alias!r} points to {target!r}, which has no price")
        source = data.get("source") or ()
        return cls(
            prices,
            {str(k): str(v) for k, v in aliases.items()},
            source=tuple(str(s) for s in ([source] if isinstance(source, str) else source)),
            checked=str(data["checked"]) if data.get("checked") else None,
            catalog=catalog,
        )

    # -- lookups ---------------------------------------------------------------------------------

    @property
    def models(self) -> list[str]:
        """Every model the override file prices, sorted."""
        return sorted(self._prices)

    def _candidates(self, model: str) -> list[str]:
        """`model` and the ids left after dropping each decoration in turn."""
        candidate = model.strip().lower()
        seen: list[str] = []
        while candidate and candidate not in seen:
            seen.append(candidate)
            candidate = self._undecorate(candidate)
        return seen

    def resolve(self, model: str, provider: str | None = None) -> str | None:
        """The file's id for `model` (after aliases and dropping decorations), else the catalog's."""
        candidates = self._candidates(model)
        for candidate in candidates:
            found = self._lookup(candidate)
            if found is not None:
                return found
        if self.catalog is not None:
            for candidate in candidates:
                known = self.catalog.model_id(candidate, provider)
                if known is not None:
                    return known
        return None

    def price(self, model: str) -> ModelPrice | None:
        """The override file's price for `model` (None: not in the file)."""
        candidates = self._candidates(model) if isinstance(model, str) else []
        key = next((found for c in candidates if (found := self._lookup(c)) is not None), None)
        return None if key is None else self._prices[key]

    def has_price(self, model: str, provider: str | None = None) -> bool:
        try:
            return self.resolve(model, provider) is not None
        except Exception:  # pragma: no cover - lookups are pure; belt and braces for a UI check
            return False

    def cost(self, model: str, usage: Usage, provider: str | None = None) -> Decimal | None:
        """USD for `usage` of one call to `model`, or None when the model has no price.

        The override file first, then the catalog (asked as `provider`, or the provider the
        model's name implies). Never raises: pricing must never fail a turn.
        """
        try:
            price = self.price(model)
            if price is not None:
                return price.cost(usage)
            if self.catalog is not None:
                for candidate in self._candidates(model):
                    cost = self.catalog.cost(candidate, usage, provider)
                    if cost is not None:
                        return cost
            self._warn_unknown(model)
            return None
        except Exception:
            log.warning("pricing failed for model %r and usage %r", model, usage, exc_info=True)
            return None

    def _lookup(self, candidate: str) -> str | None:
        if candidate in self._prices:
            return candidate
        target = self._aliases.get(candidate)
        return target if target in self._prices else None

    @staticmethod
    def _undecorate(candidate: str) -> str:
        stripped = _PROVIDER_PREFIX.sub("", candidate)
        if stripped != candidate:
            return stripped
        for pattern in _DECORATIONS:
            stripped = pattern.sub("", candidate)
            if stripped != candidate:
                return stripped
        return candidate

    def _warn_unknown(self, model: str) -> None:
        if model not in self._warned and self.error is None:
            self._warned.add(model)
            log.warning("no price for model %r: its cost is recorded as unknown (null)", model)
