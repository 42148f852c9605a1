"""Which provider the settings choose, the errors when one cannot be built, and the UI label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.providers.anthropic_provider import AnthropicProvider
from app.providers.local_provider import LocalTransformersProvider
from app.providers.openai_provider import OpenAIProvider
from app.providers.registry import (
    OFFLINE_LABEL,
    ProviderConfigError,
    build_provider,
    provider_mode_label,
    resolve_provider_name,
)
from app.providers.scripted import ScriptedProvider


@pytest.fixture
def settings(no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)  # no developer .env is read
    for name in ("ANTHROPIC_MODEL", "ANTHROPIC_BASE_URL", "OPENAI_MODEL", "LLM_TIMEOUT_S", "LLM_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LLM_MAX_TOKENS", raising=False)

    def make(**values: Any) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "offline"),
        ({"anthropic_api_key": "sk-ant"}, "anthropic"),
        ({"anthropic_api_key": "sk-ant", "openai_api_key": "sk", "local_model_path": "/m"}, "anthropic"),
        ({"anthropic_api_key": "  "}, "offline"),
        ({"openai_api_key": "sk"}, "openai"),
        ({"openai_base_url": "http://127.0.0.1:11434/v1"}, "openai"),
        ({"openai_base_url": "http://x/v1", "local_model_path": "/m"}, "openai"),
        ({"local_model_path": "/m"}, "local"),
        ({"llm_provider": "offline", "anthropic_api_key": "sk-ant"}, "offline"),
        ({"llm_provider": "local"}, "local"),
    ],
)
def test_auto_rule_and_explicit_choice(settings: Any, values: dict[str, Any], expected: str) -> None:
    assert resolve_provider_name(settings(**values)) == expected


def test_builds_each_provider_from_settings(settings: Any, tmp_path: Path) -> None:
    s = settings(
        anthropic_api_key="sk-ant",
        openai_base_url="http://127.0.0.1:11434/v1",
        local_model_path=tmp_path,
        llm_timeout_s=7,
        llm_max_retries=1,
        llm_max_tokens=300,
    )
    claude = build_provider(s)
    assert isinstance(claude, AnthropicProvider)
    assert (claude.model, claude.timeout_s, claude.max_retries, claude.max_tokens) == (
        "claude-sonnet-5-5",
        7,
        1,
        300,
    )
    other = build_provider(s, "openai", model="llama3.2")
    assert isinstance(other, OpenAIProvider)
    assert (other.model, other.base_url, other.is_openai) == ("llama3.2", "http://127.0.0.1:11434/v1", False)
    local = build_provider(s, "local")
    assert isinstance(local, LocalTransformersProvider)
    assert (local.model_path, local.max_new_tokens) == (tmp_path, 300)
    assert isinstance(build_provider(s, "scripted"), ScriptedProvider)


@pytest.mark.parametrize(
    ("name", "env_var"),
    [("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY"), ("local", "LOCAL_MODEL_PATH")],
)
def test_missing_key_for_a_chosen_provider_names_the_variable(settings: Any, name: str, env_var: str) -> None:
    with pytest.raises(ProviderConfigError, match=env_var) as caught:
        build_provider(settings(llm_provider=name))
    assert caught.value.retryable is False


def test_unknown_provider_name_is_refused(settings: Any) -> None:
    with pytest.raises(ProviderConfigError, match="anthropic, openai, local, offline, scripted"):
        build_provider(settings(), "gemini")


def test_mode_labels(settings: Any, tmp_path: Path) -> None:
    assert provider_mode_label(settings()) == OFFLINE_LABEL == "Offline: retrieval + planner, no LLM"
    assert provider_mode_label(settings(anthropic_api_key="k")) == "Claude (claude-sonnet-5-5)"
    assert (
        provider_mode_label(settings(openai_base_url="http://127.0.0.1:8000/v1", openai_model="qwen3"))
        == "OpenAI-compatible at http://127.0.0.1:8000/v1 (qwen3)"
    )
    assert provider_mode_label(settings(openai_api_key="k")) == "OpenAI (gpt-5.5)"
    assert provider_mode_label(settings(local_model_path=tmp_path)) == f"Local model at {tmp_path}"
    assert "ANTHROPIC_API_KEY is not set" in provider_mode_label(settings(llm_provider="anthropic"))
