"""The prompt pre-guard: the blocklist stage, then the classifier stage, each optional and
each decision saying which stage made it and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .blocklist import Blocklist, Match
from .text import fold
from .text import words as plain_words

CHUNK_WORDS = 64  # the classifier reads long prompts in windows of this many words ...
MAX_CHUNKS = 32  # ... up to this many (the blocklist reads everything)


@dataclass(frozen=True)
class GuardResult:
    safe: bool
    stage: str  # blocklist | classifier | none (safe)
    categories: tuple[str, ...] = ()
    matches: tuple[Match, ...] = ()
    score: float | None = None  # the classifier's unsafe probability, when it ran
    reason: str = ""

    def to_json(self) -> dict[str, object]:
        return {"verdict": "safe" if self.safe else "blocked", "stage": self.stage,
                "categories": list(self.categories), "score": self.score, "reason": self.reason,
                "matches": [{"category": m.category, "entry": m.entry, "found": m.found} for m in self.matches]}


@dataclass
class PromptGuard:
    blocklist: Blocklist | None = field(default_factory=Blocklist.load)
    classifier: bool = True
    threshold: float = 0.5
    backend: str = "torch"  # where the classifier runs (engines.runtime)

    def check(self, prompt: str) -> GuardResult:
        if not fold(prompt).strip():
            return GuardResult(True, "none", reason="empty prompt: nothing to check")
        if self.blocklist is not None and (found := self.blocklist.check(prompt)):
            cats = tuple(dict.fromkeys(m.category for m in found))
            terms = ", ".join(f"'{m.found}' ({m.category})" for m in found[:5])
            return GuardResult(False, "blocklist", cats, tuple(found),
                               reason=f"blocklist matched {terms}")
        if not self.classifier:
            return GuardResult(True, "none", reason="passed the blocklist (classifier off)")
        from .classifier import score

        # the classifier reads what the blocklist reads, allowed phrases ("kill the engine") taken out
        words = self.blocklist.allowed_removed(prompt) if self.blocklist is not None else plain_words(prompt)
        if not words:
            return GuardResult(True, "none", reason="only allowed phrases")
        chunks = [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)]
        scores = score(chunks[:MAX_CHUNKS], self.backend)
        worst = max(scores, key=lambda s: s.unsafe)
        note = f" (read the first {MAX_CHUNKS * CHUNK_WORDS} words)" if len(chunks) > MAX_CHUNKS else ""
        if worst.unsafe >= self.threshold:
            return GuardResult(False, "classifier", (worst.category,), score=round(worst.unsafe, 4),
                               reason=f"classifier: {worst.category}, unsafe score {worst.unsafe:.2f} "
                                      f">= threshold {self.threshold:.2f}{note}")
        return GuardResult(True, "none", score=round(worst.unsafe, 4),
                           reason=f"passed the blocklist and the classifier (unsafe score "
                                  f"{worst.unsafe:.2f} < {self.threshold:.2f}){note}")


def guard_for(
    blocklist: bool = True,
    classifier: bool = True,
    threshold: float = 0.5,
    block_lists: tuple[Path, ...] = (),
    allow_lists: tuple[Path, ...] = (),
    backend: str = "torch",
) -> PromptGuard:
    lists = Blocklist.load(block_lists, allow_lists) if blocklist else None
    return PromptGuard(lists, classifier, threshold, backend)
