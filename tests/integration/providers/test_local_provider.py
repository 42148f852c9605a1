"""LocalTransformersProvider with real tiny models that the tests build and save themselves.

Two models, both a 2-layer Llama with a tokenizer built by the `tokenizers` library (no download):
- a randomly initialised one with a word-level tokenizer, for generation, streaming, usage counts,
  chat templates and cancellation;
- a byte-level BPE one fitted for a moment on a single prompt so that it answers with a tool call,
  to show that what a model really generates is parsed into a ToolUseBlock.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from app.providers.base import (
    Message,
    ModelRequest,
    ModelResponse,
    ProviderError,
    TextDelta,
    ToolUseBlock,
)
from app.providers.local_provider import LocalTransformersProvider, render_prompt
from app.tools.spec import ToolSpec

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

WORDS = ["the", "a", "course", "track", "project", "python", "beginner", "advanced", "create", "list"]
WORDS += ["student", "teacher", "data", "science"]
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]
TOOLS = (
    ToolSpec("list_projects", "List the organization's projects.", {"type": "object", "properties": {}}),
)
TOOL_CALL = '<tool_call>{"name": "list_projects", "arguments": {}}</tool_call>'
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
NO_SYSTEM_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    + TEMPLATE
)


def _llama(vocab_size: int, seed: int) -> Any:
    config = transformers.LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=4096,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return transformers.LlamaForCausalLM(config)


def _fast(tokenizer: Tokenizer) -> Any:
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )


@pytest.fixture(scope="module")
def word_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random weights, word-level vocabulary; emits only words (no EOS), so it runs to the token limit."""
    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = _fast(tokenizer)
    model = _llama(len(vocab), seed=1)
    model.generation_config.eos_token_id = None
    model.generation_config.suppress_tokens = list(range(len(SPECIALS)))  # words only, never <unk>/<pad>
    path = tmp_path_factory.mktemp("word-model")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


def _with_template(source: Path, target: Path, template: str) -> Path:
    import shutil

    shutil.copytree(source, target)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(target), local_files_only=True)
    tokenizer.chat_template = template
    tokenizer.save_pretrained(target)
    return target


@pytest.fixture(scope="module")
def tool_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model fitted to answer the list-projects prompt with a `<tool_call>`."""
    request = _tool_request()
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    fast = _fast(tokenizer)
    prompt = render_prompt(fast, request)  # the exact prompt the provider will build
    tokenizer.train_from_iterator([prompt + TOOL_CALL], trainer)
    fast = _fast(tokenizer)
    model = _llama(len(fast), seed=0)
    prompt_ids = fast(prompt)["input_ids"]
    target_ids = fast(TOOL_CALL, add_special_tokens=False)["input_ids"] + [fast.eos_token_id]
    ids = torch.tensor([prompt_ids + target_ids])
    labels = ids.clone()
    labels[0, : len(prompt_ids)] = -100
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        model.train()
        for _ in range(400):
            out = model(input_ids=ids, labels=labels)
            predicted = out.logits[0, len(prompt_ids) - 1 : -1].argmax(-1)
            if bool((predicted == ids[0, len(prompt_ids) :]).all()):
                break
            out.loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        else:
            pytest.fail("the tiny model did not learn its tool call")
    finally:
        torch.set_num_threads(threads)
    model.eval()
    path = tmp_path_factory.mktemp("tool-model")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


def _tool_request() -> ModelRequest:
    return ModelRequest(system="You help admins.", messages=[Message.user("list my projects")], tools=TOOLS)


def _run(provider: LocalTransformersProvider, request: ModelRequest) -> tuple[list[str], ModelResponse]:
    items = list(provider.stream(request))
    final = items[-1]
    assert isinstance(final, ModelResponse)
    return [i.text for i in items[:-1] if isinstance(i, TextDelta)], final


def test_generates_streams_and_counts_tokens(word_model: Path) -> None:
    provider = LocalTransformersProvider(word_model, max_new_tokens=12)
    request = ModelRequest(system="Be brief.", messages=[Message.user("create a python track")])
    deltas, response = _run(provider, request)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(word_model), local_files_only=True)
    prompt = render_prompt(tokenizer, request)
    assert prompt.startswith("### System:\nBe brief.") and prompt.endswith("### Assistant:\n")
    assert response.usage.input_tokens == len(tokenizer(prompt)["input_ids"])
    assert response.usage.output_tokens == 12 and response.usage.requests == 1
    assert response.stop_reason == "max_tokens"
    assert len(deltas) >= 3
    assert "".join(deltas).strip() == response.text
    assert set(response.text.split()) <= set(WORDS)
    assert (response.provider, response.model) == ("local", word_model.name)


def test_uses_the_chat_template_when_the_tokenizer_has_one(word_model: Path, tmp_path: Path) -> None:
    path = _with_template(word_model, tmp_path / "templated", TEMPLATE)
    provider = LocalTransformersProvider(path, max_new_tokens=5)
    request = ModelRequest(system="Be brief.", messages=[Message.user("list courses")])
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    assert (
        render_prompt(tokenizer, request) == "<|system|>\nBe brief.\n<|user|>\nlist courses\n<|assistant|>\n"
    )
    _, response = _run(provider, request)
    assert response.usage.output_tokens == 5
    assert response.usage.input_tokens == len(
        tokenizer(render_prompt(tokenizer, request), add_special_tokens=False)["input_ids"]
    )


def test_template_without_system_role_gets_the_system_prompt_in_the_first_user_message(
    word_model: Path, tmp_path: Path
) -> None:
    path = _with_template(word_model, tmp_path / "nosystem", NO_SYSTEM_TEMPLATE)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    request = ModelRequest(system="Be brief.", messages=[Message.user("list courses")])
    assert render_prompt(tokenizer, request) == "<|user|>\nBe brief.\n\nlist courses\n<|assistant|>\n"


def test_a_generated_tool_call_is_parsed(tool_model: Path) -> None:
    deltas, response = _run(LocalTransformersProvider(tool_model, max_new_tokens=40), _tool_request())
    assert response.content == (ToolUseBlock("call_local_0", "list_projects", {}),)
    assert response.stop_reason == "tool_use"
    assert deltas == []  # tool-call markup is never shown to the user
    assert response.usage.output_tokens > 10


def test_closing_the_stream_stops_generation(word_model: Path) -> None:
    provider = LocalTransformersProvider(word_model, max_new_tokens=3000)
    provider.load()
    model = provider._model
    steps: list[int] = []  # one forward pass per generated token
    forward = model.forward

    def counted(*args: Any, **kwargs: Any) -> Any:
        steps.append(1)
        return forward(*args, **kwargs)

    model.forward = counted
    stream = provider.stream(ModelRequest(system="", messages=[Message.user("data science")]))
    assert isinstance(next(stream), TextDelta)
    assert isinstance(stream, Generator)
    stream.close()
    assert not [t for t in threading.enumerate() if t.name == "local-llm"]  # generation ended
    after_close = len(steps)
    assert after_close < 3000 // 2  # it stopped at once, far from the 3000 tokens it may make


def test_missing_model_folder_names_the_setting(tmp_path: Path) -> None:
    provider = LocalTransformersProvider(tmp_path / "nothing-here")
    with pytest.raises(ProviderError) as caught:
        list(provider.stream(ModelRequest(system="", messages=[Message.user("hi")])))
    assert "LOCAL_MODEL_PATH" in str(caught.value)
    assert caught.value.retryable is False
