"""The blocklist stage: words and phrases, an allow list and exact prompts, as text files.

An entry matches whole words of the folded prompt or of its lemmas; a long word (6+
letters) also matches a near spelling (SequenceMatcher ratio >= (len - 0.4) / len, as
Cosmos does); letters spaced out ("b o m b") are read joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from .text import fold, lemma, lemmas, words

LISTS = Path(__file__).resolve().parent / "lists"


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

    def allowed_removed(self, prompt: str) -> list[str]:
        """The prompt's words with the allowed phrases taken out (what is left to judge)."""
        return [t for t in _remove(_join_spelled(words(prompt)), self.allow) if t != "|"]

    def check(self, prompt: str) -> list[Match]:
        """Every entry the prompt matches (empty when it passes)."""
        tokens = _join_spelled(words(prompt))
        if " ".join(tokens) in self.exact:
            return [Match("exact", " ".join(tokens), fold(prompt).strip())]
        tokens = _remove(tokens, self.allow)
        forms = [tokens, lemmas(tokens)]
        found: list[Match] = []
        for entry, category in self.block.items():
            for seq in forms:
                hit = _find(seq, entry)
                if hit is not None:
                    found.append(Match(category, " ".join(entry), " ".join(tokens[hit : hit + len(entry)])))
                    break
            else:
                if len(entry) == 1 and len(entry[0]) >= 6 and (near := _near(entry[0], tokens)):
                    found.append(Match(category, entry[0], near))
        return found


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


def _find(seq: list[str], entry: tuple[str, ...]) -> int | None:
    n = len(entry)
    for i in range(len(seq) - n + 1):
        if tuple(seq[i : i + n]) == entry:
            return i
    return None


def _remove(tokens: list[str], phrases: list[tuple[str, ...]]) -> list[str]:
    """Allowed phrases are replaced by a break, so they neither match nor join neighbours."""
    out = list(tokens)
    for phrase in phrases:
        while (i := _find(out, phrase)) is not None:
            out[i : i + len(phrase)] = ["|"]
    return out


def _join_spelled(tokens: list[str]) -> list[str]:
    """Runs of three or more single letters ("b o m b") read as one word."""
    out: list[str] = []
    run: list[str] = []
    for t in [*tokens, ""]:
        if len(t) == 1 and t.isalpha():
            run.append(t)
            continue
        out += ["".join(run)] if len(run) >= 3 else run
        run = []
        if t:
            out.append(t)
    return out


def _near(word: str, tokens: list[str]) -> str | None:
    threshold = (len(word) - 0.4) / len(word)
    for t in tokens:
        if abs(len(t) - len(word)) <= 2 and SequenceMatcher(None, word, lemma(t)).ratio() >= threshold:
            return t
    return None
