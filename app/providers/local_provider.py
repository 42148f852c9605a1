"""A Hugging Face causal LM from a local folder, run in-process with `transformers` (optional extra).

For air-gapped installs with a GPU box or a small model: no server, no network. torch and
transformers are imported only when the model is first used, so the product runs without them
(install the extra with `pip install torch==2.13.0 transformers==5.23.0`). Loading is offline by
construction: `local_files_only=True` and HF_HUB_OFFLINE=1, never `trust_remote_code`.

Prompt: the tokenizer's chat template when it has one (retried with the system prompt folded into
the first user message for templates that refuse a system role); otherwise this plain format:

    ### System:
    <system prompt, with the tools section>

    ### User:
    <text>

    ### Assistant:

Tools are described in the system prompt, whatever the template, and the model calls one by
writing `<tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>` (the Hermes/Qwen
convention many open models were trained on). Tool results go back as user text in
`<tool_response>{...}</tool_response>`. A call that cannot be parsed becomes a ToolUseBlock with
`input_error`, so the model can be told and try again. Tool-call markup is never streamed to the
user. Usage is counted with the model's own tokenizer.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from app.providers._common import elapsed_ms, parse_tool_arguments
from app.providers.base import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    ProviderError,
    StopReason,
    StreamItem,
    TextBlock,
    TextDelta,
    ToolResultBlock,
    ToolUseBlock,
)
from app.tools.spec import ToolSpec
from app.usage.usage import Usage

CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"
PLAIN_ROLES = {"system": "### System:", "user": "### User:", "assistant": "### Assistant:"}
PLAIN_STOP = "\n### User:"
TOOL_CALL_RE = re.compile(re.escape(CALL_OPEN) + r"(.*?)(?:" + re.escape(CALL_CLOSE) + r"|$)", re.DOTALL)
EXTRA_HINT = "pip install torch==2.13.0 transformers==5.23.0"


class LocalTransformersProvider:
    """`Provider` generating with a local model. The model loads on first use, once."""

    name = "local"

    def __init__(
        self,
        model_path: str | Path,
        max_new_tokens: int = 512,
        *,
        timeout_s: float = 60.0,
        model: str | None = None,
        do_sample: bool = False,
        temperature: float = 0.7,
    ) -> None:
        self.model_path = Path(model_path)
        self.model = model or self.model_path.name
        self.max_new_tokens = max_new_tokens
        self.timeout_s = timeout_s
        self.do_sample = do_sample
        self.temperature = temperature
        self._tokenizer: Any = None
        self._model: Any = None
        self._load_lock = threading.Lock()

    # --- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        """Load tokenizer and weights from `model_path` (no download, ever)."""
        with self._load_lock:
            if self._model is not None:
                return
            if not (self.model_path / "config.json").is_file():
                raise ProviderError(
                    f"LOCAL_MODEL_PATH={self.model_path} is not a Hugging Face model folder (no config.json)",
                    retryable=False,
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as err:
                raise ProviderError(
                    f"The local model provider needs torch and transformers: {EXTRA_HINT}", retryable=False
                ) from err
            try:
                tokenizer: Any = AutoTokenizer.from_pretrained(str(self.model_path), local_files_only=True)
                model: Any = AutoModelForCausalLM.from_pretrained(str(self.model_path), local_files_only=True)
            except ImportError as err:  # transformers without torch
                raise ProviderError(f"The local model provider needs torch: {EXTRA_HINT} ({err})") from err
            except (OSError, ValueError) as err:
                raise ProviderError(
                    f"Could not load the model at LOCAL_MODEL_PATH={self.model_path}: {err}"
                ) from err
            model.eval()
            self._tokenizer, self._model = tokenizer, model

    # --- one call ---------------------------------------------------------------------------
    def stream(self, request: ModelRequest) -> Iterator[StreamItem]:
        started = time.monotonic()
        self.load()
        tokenizer, model = self._tokenizer, self._model
        prompt = render_prompt(tokenizer, request)
        inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=not _has_template(tokenizer))
        prompt_tokens = int(inputs["input_ids"].shape[1])
        limit = min(request.max_tokens, self.max_new_tokens)
        generation = _Generation(tokenizer, model, inputs, limit, self._sampling(request), self.timeout_s)
        visible = VisibleText(stop_at=None if _has_template(tokenizer) else PLAIN_STOP)
        try:
            for piece in generation.pieces():
                shown = visible.feed(piece)
                if shown:
                    yield TextDelta(shown)
                if visible.stopped:
                    generation.stop()
                    break
            tail = visible.flush()
            if tail:
                yield TextDelta(tail)
            output_ids = generation.result()
        finally:
            generation.stop()
        new_tokens = int(output_ids.shape[1]) - prompt_tokens
        content, stop_reason = parse_output(visible.raw)
        if stop_reason == "end_turn" and new_tokens >= limit and not visible.stopped:
            stop_reason = "max_tokens"
        yield ModelResponse(
            content=content,
            stop_reason=stop_reason,
            usage=Usage(input_tokens=prompt_tokens, output_tokens=new_tokens, requests=1),
            provider=self.name,
            model=self.model,
            latency_ms=elapsed_ms(started),
        )

    def _sampling(self, request: ModelRequest) -> dict[str, Any]:
        temperature = request.temperature if request.temperature is not None else self.temperature
        if self.do_sample and temperature > 0:
            return {"do_sample": True, "temperature": temperature}
        return {"do_sample": False}


class _Generation:
    """`model.generate` in a thread, feeding a TextIteratorStreamer; stoppable from outside."""

    def __init__(
        self, tokenizer: Any, model: Any, inputs: Any, limit: int, sampling: dict[str, Any], timeout_s: float
    ) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        self._stop = threading.Event()
        stop = self._stop

        class _StopWhenAsked(StoppingCriteria):  # type: ignore[misc]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full(
                    (input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device
                )

        self._streamer = TextIteratorStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=timeout_s
        )
        self._timeout_s = timeout_s
        self._outcome: dict[str, Any] = {}
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        kwargs = dict(
            **inputs,
            streamer=self._streamer,
            max_new_tokens=limit,
            stopping_criteria=StoppingCriteriaList([_StopWhenAsked()]),
            pad_token_id=pad,
            **sampling,
        )
        self._thread = threading.Thread(target=self._run, args=(model, kwargs), daemon=True, name="local-llm")
        self._thread.start()

    def _run(self, model: Any, kwargs: dict[str, Any]) -> None:
        import torch

        try:
            with torch.inference_mode():
                self._outcome["ids"] = model.generate(**kwargs)
        except BaseException as err:  # handed to the caller's thread
            self._outcome["error"] = err
            self._streamer.text_queue.put(self._streamer.stop_signal)

    def pieces(self) -> Iterator[str]:
        try:
            yield from self._streamer
        except queue.Empty as err:
            self.stop()
            raise ProviderError(
                f"The local model produced nothing for {self._timeout_s:g} s (LLM_TIMEOUT_S).", retryable=True
            ) from err

    def result(self) -> Any:
        self._thread.join(self._timeout_s)
        if "error" in self._outcome:
            raise ProviderError(f"Local generation failed: {self._outcome['error']}") from self._outcome[
                "error"
            ]
        if "ids" not in self._outcome:
            raise ProviderError("Local generation did not finish in time (LLM_TIMEOUT_S).", retryable=True)
        return self._outcome["ids"]

    def stop(self) -> None:
        """Ask generate to stop at the next token and wait for the thread (a cancelled turn)."""
        self._stop.set()
        self._thread.join(self._timeout_s)


# --- prompt -----------------------------------------------------------------------------------


def _has_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def render_prompt(tokenizer: Any, request: ModelRequest) -> str:
    chat = to_chat(request)
    if not _has_template(tokenizer):
        return plain_prompt(chat)
    try:
        return str(tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False))
    except Exception:  # jinja2 TemplateError, e.g. "System role not supported"
        if chat and chat[0]["role"] == "system":
            folded = _fold_system(chat)
            return str(tokenizer.apply_chat_template(folded, add_generation_prompt=True, tokenize=False))
        raise


def plain_prompt(chat: Sequence[dict[str, str]]) -> str:
    parts = [f"{PLAIN_ROLES[m['role']]}\n{m['content']}\n\n" for m in chat]
    return "".join(parts) + PLAIN_ROLES["assistant"] + "\n"


def _fold_system(chat: list[dict[str, str]]) -> list[dict[str, str]]:
    system, rest = chat[0]["content"], chat[1:]
    if rest and rest[0]["role"] == "user":
        return [{"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}, *rest[1:]]
    return [{"role": "user", "content": system}, *rest]


def tools_section(tools: Sequence[ToolSpec]) -> str:
    lines = [
        "# Tools",
        "You may call one of these tools. To call a tool, answer with exactly",
        f'{CALL_OPEN}{{"name": "<tool name>", "arguments": {{<arguments as a JSON object>}}}}{CALL_CLOSE}',
        "and nothing after it. The result comes back in <tool_response></tool_response>.",
        "Available tools (name, description and the JSON schema of the arguments):",
    ]
    for tool in tools:
        spec = {"name": tool.name, "description": tool.description, "parameters": tool.input_schema}
        lines.append(json.dumps(spec, ensure_ascii=False))
    return "\n".join(lines)


def to_chat(request: ModelRequest) -> list[dict[str, str]]:
    """Neutral request -> [{"role", "content"}] with tools, calls and results written as text."""
    system = request.system
    if request.tools:
        system = f"{system}\n\n{tools_section(request.tools)}" if system else tools_section(request.tools)
    chat: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    names = {b.id: b.name for m in request.messages for b in m.content if isinstance(b, ToolUseBlock)}
    for message in request.messages:
        text = _message_text(message, names)
        if not text:
            continue
        if chat and chat[-1]["role"] == message.role:  # templates want alternating roles
            chat[-1] = {"role": message.role, "content": f"{chat[-1]['content']}\n\n{text}"}
        else:
            chat.append({"role": message.role, "content": text})
    return chat


MARKUP = ("<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")


def inert(text: str) -> str:
    """Text from a user's message (or a document in it) with the tool markup made harmless: in a
    text-only chat template a typed `<tool_response>` would otherwise read as a real tool result,
    a forged decision on a proposed action among them."""
    for tag in MARKUP:
        text = text.replace(tag, tag.replace("<", "&lt;"))
    return text


def _message_text(message: Message, names: dict[str, str]) -> str:
    parts: list[str] = []
    for block in message.content:
        if isinstance(block, TextBlock) and block.text:
            parts.append(inert(block.text) if message.role == "user" else block.text)
        elif isinstance(block, ToolUseBlock):
            call = {"name": block.name, "arguments": block.input}
            parts.append(f"{CALL_OPEN}{json.dumps(call, ensure_ascii=False)}{CALL_CLOSE}")
        elif isinstance(block, ToolResultBlock):
            result = {"name": names.get(block.tool_use_id, ""), "content": block.content}
            if block.is_error:
                result["error"] = "true"
            parts.append(f"<tool_response>{json.dumps(result, ensure_ascii=False)}</tool_response>")
    return "\n".join(parts)


# --- output -----------------------------------------------------------------------------------


class VisibleText:
    """Filters streamed text: passes the answer, holds back tool-call markup and a stop marker.

    A piece of text that could be the start of `<tool_call>` is held until it is clearly not;
    once a call starts nothing more is shown (the rest is parsed at the end).
    """

    def __init__(self, stop_at: str | None = None) -> None:
        self.raw = ""
        self.stopped = False
        self._shown = 0
        self._in_call = False
        self._stop_at = stop_at

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.raw += piece
        if self._stop_at and self._stop_at in self.raw:
            self.raw = self.raw[: self.raw.index(self._stop_at)]
            self.stopped = True
        if self._in_call:
            return ""
        start = self.raw.find(CALL_OPEN, self._shown)
        if start >= 0:
            self._in_call = True
            return self._show_until(start)
        held = max(_partial_suffix(self.raw, marker) for marker in (CALL_OPEN, self._stop_at or CALL_OPEN))
        return self._show_until(len(self.raw) - held)

    def flush(self) -> str:
        return "" if self._in_call else self._show_until(len(self.raw))

    def _show_until(self, end: int) -> str:
        out = self.raw[self._shown : end] if end > self._shown else ""
        self._shown = max(self._shown, end)
        return out


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of `text` that is a proper start of `marker`."""
    return max((n for n in range(1, len(marker)) if text.endswith(marker[:n])), default=0)


def parse_output(raw: str) -> tuple[tuple[ContentBlock, ...], StopReason]:
    """Generated text -> (text block, tool calls) in the documented `<tool_call>` format."""
    calls = [parse_tool_call(m.group(1), i) for i, m in enumerate(TOOL_CALL_RE.finditer(raw))]
    text = TOOL_CALL_RE.sub("", raw).strip()
    content: tuple[ContentBlock, ...] = ((TextBlock(text),) if text else ()) + tuple(calls)
    return content, ("tool_use" if calls else "end_turn")


def parse_tool_call(body: str, index: int = 0) -> ToolUseBlock:
    """`{"name": ..., "arguments": {...}}` -> ToolUseBlock; anything else -> input_error set."""
    call_id = f"call_local_{index}"
    try:
        value = json.loads(body)
    except ValueError as err:
        return ToolUseBlock(
            call_id, _guess_name(body), {}, f"tool call is not valid JSON ({err}): {body[:200]}"
        )
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return ToolUseBlock(
            call_id, "", {}, f'tool call must be {{"name": ..., "arguments": {{...}}}}: {body[:200]}'
        )
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        parsed, problem = parse_tool_arguments(arguments)
        return ToolUseBlock(call_id, value["name"], parsed, problem)
    if not isinstance(arguments, dict):
        return ToolUseBlock(
            call_id, value["name"], {}, f"tool arguments must be a JSON object: {arguments!r}"
        )
    return ToolUseBlock(call_id, value["name"], arguments)


def _guess_name(body: str) -> str:
    match = re.search(r'"name"\s*:\s*"([^"]+)"', body)
    return match.group(1) if match else ""
