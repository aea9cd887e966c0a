"""The prompt guard measured on the labeled prompts (``data/prompts.jsonl``), by default on
the held-out split (templates and words the classifier never trained on): unsafe recall and
benign false-positive rate for the blocklist alone, the classifier alone and both stages,
overall and per subset (unsafe, obfuscated, benign, hard_benign), per category and per
kind of disguise. The classifier is computed with the torch reference (MiniLM, pooling, the
head of the checkpoint given), each window embedded once for all three configurations."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .. import catalog
from .. import weights as files
from .blocklist import Blocklist
from .classifier import DATA, NAME, Head, Score, embed, load_card, load_prompts, probabilities
from .prompt import PromptGuard, windows

SUBSETS = ("unsafe", "obfuscated", "benign", "hard_benign")


def load_checkpoint(card: Path | None = None) -> tuple[Head, dict[str, Any]]:
    """A classifier head and its card: ``card`` (a prompt_guard .json) or the shipped one."""
    card = card or catalog.find(NAME, "guard").card
    weights = card.with_suffix(".safetensors")
    if not card.exists() or not weights.exists():
        raise files.CheckpointError(f"no prompt classifier at {card} (and {weights.name})")
    return load_card(card), files.read_meta(card)


def cached_scorer(head: Head) -> Callable[[list[str]], list[Score]]:
    """Scores windows with ``head``, embedding each different text once."""
    cache: dict[str, torch.Tensor] = {}

    def scorer(texts: list[str]) -> list[Score]:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            cache.update(zip(todo, embed(todo, head.layers), strict=True))
        return probabilities(head, torch.stack([cache[t] for t in texts]))

    return scorer


def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def figures(rows: list[dict[str, str]], blocked: list[bool]) -> dict[str, Any]:
    """Recall on unsafe rows, false-positive rate on safe rows: overall, per subset, per
    unsafe category, per disguise and per domain of the safe rows (their category:
    "identity", "negative_prompts", ...)."""
    unsafe = [b for r, b in zip(rows, blocked, strict=True) if r["label"] != "safe"]
    safe = [b for r, b in zip(rows, blocked, strict=True) if r["label"] == "safe"]
    out: dict[str, Any] = {"unsafe_recall": _rate(sum(unsafe), len(unsafe)),
                           "benign_false_positive_rate": _rate(sum(safe), len(safe)), "subsets": {}}
    groups: dict[str, dict[str, list[bool]]] = {"subsets": {}, "categories": {}, "disguises": {}, "domains": {}}
    for r, b in zip(rows, blocked, strict=True):
        groups["subsets"].setdefault(r.get("subset", "unsafe" if r["label"] != "safe" else "benign"), []).append(b)
        if r["label"] != "safe":
            groups["categories"].setdefault(r["category"], []).append(b)
        else:
            groups["domains"].setdefault(r.get("category", "benign"), []).append(b)
        if r.get("subset") == "obfuscated":
            how = r.get("template", "").split("+")[-1]
            how = next((k for k in ("cover", "negation") if how.startswith(f"{k}-")), how)
            groups["disguises"].setdefault(how, []).append(b)
    for name, group in groups.items():
        out[name] = {}
        for key, bs in sorted(group.items()):
            harmless = name == "domains" or (name == "subsets" and key in ("benign", "hard_benign"))
            rate = "false_positive_rate" if harmless else "recall"
            out[name][key] = {"prompts": len(bs), rate: _rate(sum(bs), len(bs))}
    return out


def evaluate(
    data: Path = DATA, card: Path | None = None, split: str = "heldout", threshold: float = 0.5,
    examples: int = 10, progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """The figures of the blocklist alone, the classifier alone and both, on ``split``
    (heldout, train or all) of ``data``, with the checkpoint ``card`` (default: shipped)."""
    rows = [r for r in load_prompts(data) if split == "all" or r["split"] == split]
    if not rows:
        raise ValueError(f"{data}: no prompts in the {split!r} split")
    head, meta = load_checkpoint(card)
    scorer = cached_scorer(head)
    lists = Blocklist.load()
    model = f"{NAME} {str(meta.get('sha256', ''))[:12]}"
    guards = {"blocklist": PromptGuard(lists, False, threshold),
              "classifier": PromptGuard(None, True, threshold, scorer=scorer, checkpoint=model),
              "both": PromptGuard(lists, True, threshold, scorer=scorer, checkpoint=model)}
    result: dict[str, Any] = {"data": str(data), "split": split, "prompts": len(rows), "threshold": threshold,
                              "checkpoint": {"card": str(card or catalog.find(NAME, "guard").card),
                                             "sha256": meta.get("sha256")}, "stages": {}}
    t0 = time.perf_counter()
    texts = [w for r in rows for w in windows(r["prompt"], lists.vocabulary)]
    for i in range(0, len(texts), 512):  # every window embedded up front, in batches
        scorer(texts[i : i + 512])
        if progress:
            progress("embedding", min(i + 512, len(texts)), len(texts))
    for name, guard in guards.items():
        verdicts = []
        for i, r in enumerate(rows):
            verdicts.append(guard.check(r["prompt"]))
            if progress:
                progress(name, i + 1, len(rows))
        blocked = [not v.safe for v in verdicts]
        result["stages"][name] = figures(rows, blocked)
        if name == "both":
            result["guards"] = list(guard.guards(True, True))
            pairs = list(zip(rows, verdicts, strict=True))
            result["missed"] = [{"prompt": r["prompt"], "subset": r.get("subset"), "score": v.score}
                                for r, v in pairs if r["label"] != "safe" and v.safe][:examples]
            result["false_positives"] = [{"prompt": r["prompt"], "subset": r.get("subset"), "stage": v.stage,
                                          "reason": v.reason}
                                         for r, v in pairs if r["label"] == "safe" and not v.safe][:examples]
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result
