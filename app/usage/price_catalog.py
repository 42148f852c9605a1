"""List prices from `genai-prices`, the maintained price database pydantic-ai uses.

It knows each provider's models with their input, output, cache-write and cache-read prices and
long-context tiers, and works offline from the data packaged with it (nothing is fetched: the
update functions are never called). Only the two APIs with public list prices are asked, Anthropic
and OpenAI; a model served by anything else (Ollama, a local model) has no list price, so its cost
stays unknown rather than borrowing a namesake's price.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from genai_prices import Usage as CatalogUsage
from genai_prices import calc_price

from app.usage.usage import Usage

log = logging.getLogger(__name__)

CATALOG_PROVIDERS = {"anthropic": "anthropic", "openai": "openai"}
# A scripted provider replays a recorded exchange with the model it names (tests, demos, the
# benchmarks): it costs what that model's calls would, so it is priced by the model's name.
PRICED_BY_MODEL_NAME = {"scripted"}
_BY_NAME = ((re.compile(r"^claude"), "anthropic"), (re.compile(r"^(gpt-|o\d)"), "openai"))


def catalog_provider(model: str, provider: str | None) -> str | None:
    """The catalog's provider id for a call, from our provider name or else the model's name."""
    if provider is not None and provider not in PRICED_BY_MODEL_NAME:
        return CATALOG_PROVIDERS.get(provider)
    return next((name for pattern, name in _BY_NAME if pattern.match(model)), None)


class GenaiPriceCatalog:
    """`cost` and `model_id` over genai-prices' packaged snapshot."""

    def model_id(self, model: str, provider: str | None = None) -> str | None:
        """The catalog's id for `model` (it resolves snapshot dates itself), or None."""
        found = self._calc(model, Usage(), provider)
        return None if found is None else found[1]

    def cost(self, model: str, usage: Usage, provider: str | None = None) -> Decimal | None:
        found = self._calc(model, usage, provider)
        return None if found is None else found[0]

    def _calc(self, model: str, usage: Usage, provider: str | None) -> tuple[Decimal, str] | None:
        provider_id = catalog_provider(model, provider)
        if provider_id is None or not model:
            return None
        # genai-prices counts input tokens OpenAI's way: cache reads and writes included.
        counts = CatalogUsage(
            input_tokens=usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
        )
        try:
            price = calc_price(counts, model_ref=model, provider_id=provider_id)
        except LookupError:
            return None
        return Decimal(str(price.total_price)), str(price.model.id)
