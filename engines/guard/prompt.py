"""The prompt pre-guard: the blocklist stage, then the classifier stage, each optional and
each decision saying which stage made it and why, and which stages ran with which settings
(so a stage that is off is never silently off)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from .blocklist import Blocklist, Match, unnegated
from .text import Token, fold, join_tokens, sentences, tokens

if TYPE_CHECKING:
    from .classifier import Score

CHUNK_WORDS = 64  # the classifier reads a sentence in windows of at most this many words ...
MAX_WINDOWS = 64  # ... up to this many different windows (the blocklist reads everything)
CLAUSE_WORDS = 3  # a clause this long is a window of its own
CLAUSE_WORDS_CUT = frozenset({"then", "while"})  # clauses are cut at these words, a comma and a colon
Scorer = Callable[[list[str]], list["Score"]]


@dataclass(frozen=True)
class GuardResult:
    safe: bool
    stage: str  # blocklist | classifier | none (safe)
    categories: tuple[str, ...] = ()
    matches: tuple[Match, ...] = ()
    score: float | None = None  # the classifier's unsafe probability (its worst window), when it ran
    reason: str = ""
    guards: tuple[str, ...] = ()  # each stage: whether it ran, and its settings
    window: str = ""  # the words of the classifier's worst window

    def to_json(self) -> dict[str, object]:
        return {"verdict": "safe" if self.safe else "blocked", "stage": self.stage,
                "categories": list(self.categories), "score": self.score, "reason": self.reason,
                "guards": list(self.guards), "window": self.window,
                "matches": [{"category": m.category, "entry": m.entry, "found": m.found} for m in self.matches]}


@cache
def shipped_vocabulary() -> frozenset[str]:
    return Blocklist.load().vocabulary


def windows(prompt: str, vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """What the classifier reads: every sentence, every two neighbouring sentences and every
    clause of ``CLAUSE_WORDS`` words or more (cut at commas, colons, "then", "while"), as
    normalized words (folded, leetspeak and split words undone, what the prompt asks to leave
    out set aside: ``blocklist.unnegated``), at most ``CHUNK_WORDS`` words each, without
    repeats. Its verdict is the worst window's, so a harmless sentence or clause in front of a
    harmful one does not dilute it."""
    vocabulary = vocabulary or shipped_vocabulary()
    parts = [unnegated(join_tokens(tokens(s), vocabulary)) for s in sentences(prompt)]
    out: list[str] = []
    for i, toks in enumerate(parts):
        words = [t.word for t in toks]
        pair = words + [t.word for t in parts[i + 1]] if i + 1 < len(parts) else []
        for ws in (words, pair if len(pair) <= CHUNK_WORDS else [],
                   *(c for c in clauses(toks) if CLAUSE_WORDS <= len(c) < len(words))):
            out += [" ".join(ws[j : j + CHUNK_WORDS]) for j in range(0, len(ws), CHUNK_WORDS)]
    return list(dict.fromkeys(w for w in out if w))


def clauses(toks: list[Token]) -> list[list[str]]:
    """A sentence's words cut into clauses at a comma or colon and at "then" ("and then") and
    "while" (those words dropped)."""
    out: list[list[str]] = [[]]
    for t in toks:
        if t.word in CLAUSE_WORDS_CUT:
            if t.word == "then" and out[-1][-1:] == ["and"]:
                out[-1].pop()
            out.append([])
            continue
        if ":" in t.gap or "," in t.gap:
            out.append([])
        out[-1].append(t.word)
    return [c for c in out if c]


def normalized(prompt: str) -> str:
    """The whole prompt as the classifier's normalization reads it (training text)."""
    vocabulary = shipped_vocabulary()
    return " ".join(t.word for s in sentences(prompt) for t in unnegated(join_tokens(tokens(s), vocabulary)))


@dataclass
class PromptGuard:
    blocklist: Blocklist | None = field(default_factory=Blocklist.load)
    classifier: bool = True
    threshold: float = 0.5
    backend: str = "torch"  # where the classifier runs (engines.runtime)
    scorer: Scorer | None = None  # scores windows; default: the shipped checkpoint on ``backend``
    checkpoint: str = ""  # what ``scorer`` is, for the record (default: the shipped card's sha256)

    def guards(self, blocklist_ran: bool, classifier_ran: bool, why_not: str = "") -> tuple[str, ...]:
        """The stages and their settings as the verdict records them."""
        if self.blocklist is None:
            lists = "blocklist: off"
        else:
            lists = (f"blocklist: {'ran' if blocklist_ran else 'not run' + why_not}, {len(self.blocklist.block)} "
                     f"entries, {len(self.blocklist.allow)} allowed phrases")
        if not self.classifier:
            return lists, "classifier: off"
        ran = "ran" if classifier_ran else "not run" + why_not
        return lists, f"classifier: {ran}, threshold {self.threshold:.2f}, checkpoint {self.model_id()}"

    def model_id(self) -> str:
        if self.checkpoint:
            return self.checkpoint
        from .. import catalog
        from .. import weights as files
        from .classifier import NAME

        try:
            return f"{NAME} {str(files.read_meta(catalog.find(NAME, 'guard').card).get('sha256', ''))[:12]}"
        except files.CheckpointError:
            return f"{NAME} (missing)"

    def check(self, prompt: str) -> GuardResult:
        if not fold(prompt).strip():
            return GuardResult(True, "none", reason="empty prompt: nothing to check",
                               guards=self.guards(False, False, " (empty prompt)"))
        if self.blocklist is not None and (found := self.blocklist.check(prompt)):
            cats = tuple(dict.fromkeys(m.category for m in found))
            terms = ", ".join(f"'{m.found}' ({m.category})" for m in found[:5])
            return GuardResult(False, "blocklist", cats, tuple(found), reason=f"blocklist matched {terms}",
                               guards=self.guards(True, False, " (the blocklist decided)"))
        if not self.classifier:
            passed = "passed the blocklist (classifier off)" if self.blocklist is not None else \
                "NOT CHECKED: the blocklist and the classifier are both off"
            return GuardResult(True, "none", reason=passed, guards=self.guards(True, False))
        vocabulary = shipped_vocabulary() | (self.blocklist.vocabulary if self.blocklist is not None else frozenset())
        texts = windows(prompt, vocabulary)
        if not texts:  # the prompt is only what it asks to leave out ("no gore or nudity")
            return GuardResult(True, "none", reason="nothing to classify: the prompt only lists what to leave out",
                               guards=self.guards(True, False, " (only what to leave out)"))
        scores = self._score(texts[:MAX_WINDOWS])
        k = max(range(len(scores)), key=lambda i: scores[i].unsafe)
        worst = scores[k]
        note = f" (read the first {MAX_WINDOWS} of {len(texts)} windows)" if len(texts) > MAX_WINDOWS else ""
        passed = "passed the blocklist and the classifier" if self.blocklist is not None else \
            "passed the classifier (blocklist off)"
        guards = self.guards(True, True)
        if worst.unsafe >= self.threshold:
            return GuardResult(False, "classifier", (worst.category,), score=round(worst.unsafe, 4),
                               reason=f"classifier: {worst.category}, unsafe score {worst.unsafe:.2f} "
                                      f">= threshold {self.threshold:.2f} in {texts[k]!r}{note}",
                               guards=guards, window=texts[k])
        return GuardResult(True, "none", score=round(worst.unsafe, 4), guards=guards, window=texts[k],
                           reason=f"{passed} (worst unsafe score {worst.unsafe:.2f} < {self.threshold:.2f}){note}")

    def _score(self, texts: list[str]) -> list[Score]:
        if self.scorer is not None:
            return self.scorer(texts)
        from .classifier import score

        return score(texts, self.backend)


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
