"""Which provider runs, built from settings: the one place that knows every provider by name.

The UI, the API server and `python -m app chat --provider` all ask here, so "auto" means the same
everywhere and a missing key is reported the same way: naming the environment variable to set.
The heavy providers are imported inside `build_provider`, so choosing one never imports the SDK
(or torch) of another.
"""

from __future__ import annotations

from app.config import Settings
from app.providers.base import Provider, ProviderError

PROVIDER_NAMES = ("anthropic", "openai", "local", "offline", "scripted")
OFFLINE_LABEL = "Offline: retrieval + planner, no LLM"
# Sent to OpenAI-compatible servers that need no key (Ollama, llama.cpp); the SDK insists on one.
NO_KEY_NEEDED = "not-needed"


class ProviderConfigError(ProviderError):
    """The chosen provider cannot be built from the settings (a key or a path is missing)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def _secret(value: object) -> str | None:
    """The text of a SecretStr setting; blank counts as unset."""
    getter = getattr(value, "get_secret_value", None)
    text = getter() if getter is not None else value
    if not isinstance(text, str) or not text.strip():
        return None
    return text.strip()


def resolve_provider_name(settings: Settings) -> str:
    """LLM_PROVIDER, or for "auto": anthropic if ANTHROPIC_API_KEY is set, else openai if
    OPENAI_BASE_URL or OPENAI_API_KEY is set, else local if LOCAL_MODEL_PATH is set, else offline."""
    if settings.llm_provider != "auto":
        return settings.llm_provider
    if _secret(settings.anthropic_api_key):
        return "anthropic"
    if settings.openai_base_url or _secret(settings.openai_api_key):
        return "openai"
    if settings.local_model_path:
        return "local"
    return "offline"


def build_provider(settings: Settings, name: str | None = None, model: str | None = None) -> Provider:
    """The provider `name` (default: the resolved one), with `model` overriding the settings' model."""
    chosen = name or resolve_provider_name(settings)
    if chosen == "anthropic":
        from app.providers.anthropic_provider import AnthropicProvider

        key = _secret(settings.anthropic_api_key)
        if key is None:
            raise ProviderConfigError(
                "The anthropic provider needs an API key: set ANTHROPIC_API_KEY "
                "(or choose another provider with LLM_PROVIDER)."
            )
        return AnthropicProvider(
            key,
            model or settings.anthropic_model,
            settings.anthropic_base_url,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            max_tokens=settings.llm_max_tokens,
        )
    if chosen == "openai":
        from app.providers.openai_provider import OpenAIProvider

        key = _secret(settings.openai_api_key)
        if key is None and not settings.openai_base_url:
            raise ProviderConfigError(
                "The openai provider needs OPENAI_API_KEY for api.openai.com, or OPENAI_BASE_URL "
                "for an OpenAI-compatible server (vLLM, Ollama, llama.cpp)."
            )
        return OpenAIProvider(
            key or NO_KEY_NEEDED,
            model or settings.openai_model,
            settings.openai_base_url,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            max_tokens=settings.llm_max_tokens,
        )
    if chosen == "local":
        from app.providers.local_provider import LocalTransformersProvider

        if settings.local_model_path is None:
            raise ProviderConfigError(
                "The local provider needs LOCAL_MODEL_PATH: the folder of a Hugging Face causal LM."
            )
        return LocalTransformersProvider(
            settings.local_model_path,
            settings.llm_max_tokens,
            timeout_s=settings.llm_timeout_s,
            model=model,
        )
    if chosen == "scripted":
        from app.providers.scripted import ScriptedProvider

        return ScriptedProvider(model or "scripted-model")
    if chosen == "offline":
        from app.providers.offline import build_offline_provider  # type: ignore[import-not-found,unused-ignore]

        provider: Provider = build_offline_provider(settings)
        return provider
    raise ProviderConfigError(f"Unknown provider {chosen!r}; choose one of: {', '.join(PROVIDER_NAMES)}.")


def provider_mode_label(settings: Settings, name: str | None = None) -> str:
    """One line for the UI saying which mode the assistant is in (never raises)."""
    chosen = name or resolve_provider_name(settings)
    if chosen == "anthropic":
        label = f"Claude ({settings.anthropic_model})"
        return label if _secret(settings.anthropic_api_key) else f"{label}: ANTHROPIC_API_KEY is not set"
    if chosen == "openai":
        if settings.openai_base_url:
            return f"OpenAI-compatible at {settings.openai_base_url} ({settings.openai_model})"
        label = f"OpenAI ({settings.openai_model})"
        return label if _secret(settings.openai_api_key) else f"{label}: OPENAI_API_KEY is not set"
    if chosen == "local":
        if settings.local_model_path is None:
            return "Local model: LOCAL_MODEL_PATH is not set"
        return f"Local model at {settings.local_model_path}"
    if chosen == "scripted":
        return "Scripted model (tests)"
    if chosen == "offline":
        return OFFLINE_LABEL
    return f"Unknown provider {chosen!r}"
