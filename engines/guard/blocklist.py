"""The blocklist stage: words and phrases, an allow list and exact prompts, as text files.

An entry matches whole words of the folded prompt or of its lemmas; a long word (6+
letters) also matches a near spelling (SequenceMatcher ratio >= (len - 0.4) / len, as
Cosmos does); letters spaced out ("b o m b") and a listed word split in pieces ("bo mb",
"co\\tcaine") are read joined. An allowed phrase exempts only its own words: an entry that
reaches past it still matches, and an allowed phrase that ends in a listed word followed by
an object ("bath bomb the school") is read as that word used as a verb and exempts nothing.
A listed word right after "no" or "without" ("no nudity") is a wish to avoid it, not a match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property
from pathlib import Path

from .text import fold, join_split, lemma, lemmas, tokens, words

LISTS = Path(__file__).resolve().parent / "lists"
NEGATIONS = frozenset({"no", "not", "without", "avoid", "non"})
# words that start an object: after a listed word they make it a verb ("bomb the school")
OBJECTS = frozenset({"the", "a", "an", "this", "that", "these", "those", "his", "her", "their", "our", "my",
                     "your", "its", "them", "him", "us", "me", "everyone", "everybody", "people", "it"})
MEASURES = frozenset({"size", "shape", "colour", "color", "length", "width", "height", "weight", "way"})


class ListError(Exception):
    """A list file cannot be used; the message names it."""


@dataclass(frozen=True)
class Match:
    category: str
    entry: str  # the list entry
    found: str  # the words of the prompt that matched it


@dataclass
class Blocklist:
    block: dict[tuple[str, ...], str] = field(default_factory=dict)  # lemmatized words -> category
    allow: list[tuple[str, ...]] = field(default_factory=list)
    exact: set[str] = field(default_factory=set)

    @classmethod
    def load(
        cls, block: Sequence[Path] = (), allow: Sequence[Path] = (), exact: Sequence[Path] = (),
        defaults: bool = True,
    ) -> Blocklist:
        """The shipped lists (unless ``defaults`` is false) plus the user's files."""
        lists = cls()
        extra = (LISTS / "block.txt", LISTS / "allow.txt", LISTS / "exact.txt") if defaults else ()
        for path in [*extra[:1], *block]:
            category = "blocked"
            for line in _lines(path):
                if line.startswith("[") and line.endswith("]"):
                    category = line[1:-1].strip() or "blocked"
                elif entry := tuple(lemmas(words(line))):
                    lists.block[entry] = category
        for path in [*extra[1:2], *allow]:
            lists.allow += [tuple(words(line)) for line in _lines(path) if words(line)]
        for path in [*extra[2:], *exact]:
            lists.exact |= {" ".join(words(line)) for line in _lines(path) if words(line)}
        return lists

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word of a blocked entry (lemmas): what a split word is joined back into."""
        return frozenset(w for entry in self.block for w in entry)

    def words(self, prompt: str) -> list[str]:
        """The prompt's words as this list reads them: folded, leetspeak and split words undone."""
        return join_split(tokens(fold(prompt)), self.vocabulary)

    def check(self, prompt: str) -> list[Match]:
        """Every entry the prompt matches (empty when it passes)."""
        toks = self.words(prompt)
        if " ".join(toks) in self.exact:
            return [Match("exact", " ".join(toks), fold(prompt).strip())]
        spans = self._allowed(toks)
        forms = [toks, lemmas(toks)]
        found: list[Match] = []
        for entry, category in self.block.items():
            hit = next((i for seq in forms for i in _find_all(seq, entry)
                        if not _exempt(i, i + len(entry), spans, toks)), None)
            if hit is not None:
                found.append(Match(category, " ".join(entry), " ".join(toks[hit : hit + len(entry)])))
            elif len(entry) == 1 and len(entry[0]) >= 6 and (near := _near(entry[0], toks, spans)):
                found.append(Match(category, entry[0], near))
        return found

    def _allowed(self, toks: list[str]) -> list[tuple[int, int]]:
        """The spans of the allowed phrases in the prompt, less those used as cover."""
        spans = []
        for phrase in self.allow:
            for i in _find_all(toks, phrase):
                end = i + len(phrase)
                if not self._cover(toks, end):
                    spans.append((i, end))
        return spans

    def _cover(self, toks: list[str], end: int) -> bool:
        """An allowed phrase ending in a listed word, followed by an object: that word is a verb."""
        if end >= len(toks) or toks[end] not in OBJECTS or lemma(toks[end - 1]) not in self.vocabulary:
            return False
        return not (toks[end] == "the" and end + 1 < len(toks) and toks[end + 1] in MEASURES)


def _lines(path: Path) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ListError(f"{path}: no such list file") from None
    except UnicodeDecodeError as e:
        raise ListError(f"{path}: not UTF-8 text (byte {e.start}); save the list as UTF-8") from None
    except OSError as e:
        raise ListError(f"{path}: cannot read ({e.strerror})") from None
    return [s for s in (line.strip() for line in text.splitlines()) if s and not s.startswith("#")]


def _find_all(seq: list[str], entry: tuple[str, ...]) -> list[int]:
    n = len(entry)
    return [i for i in range(len(seq) - n + 1) if seq[i] == entry[0] and tuple(seq[i : i + n]) == entry]


def _exempt(start: int, end: int, spans: Sequence[tuple[int, int]], toks: list[str]) -> bool:
    """Words inside one allowed span, or negated ("no nudity")."""
    if start > 0 and toks[start - 1] in NEGATIONS:
        return True
    return any(a <= start and end <= b for a, b in spans)


def _near(word: str, toks: list[str], spans: Sequence[tuple[int, int]] = ()) -> str | None:
    threshold = (len(word) - 0.4) / len(word)
    for i, t in enumerate(toks):
        if abs(len(t) - len(word)) > 2 or _exempt(i, i + 1, spans, toks):
            continue
        m = SequenceMatcher(None, word, lemma(t))
        if m.real_quick_ratio() >= threshold and m.quick_ratio() >= threshold and m.ratio() >= threshold:
            return t
    return None
