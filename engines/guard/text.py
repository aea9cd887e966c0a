"""Prompt text as the guard sees it: plain lowercase ASCII words, whatever tricks the
writer used (compatibility forms, small capitals and other look-alike letters, accents,
leetspeak, zero-width or control characters, letters spaced out or a word split in two)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

# letters of other scripts that look like Latin ones (Cyrillic, Greek, Armenian); fullwidth,
# mathematical and circled letters are NFKC's, Latin variants (small capitals, dotless i,
# o with stroke, regional indicators) come from their Unicode names (``confusables``)
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g",
    "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ѵ": "v", "ց": "g", "օ": "o", "ս": "u", "ɑ": "a",
    "ɩ": "i", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
}
_LATIN_NAME = re.compile(
    r"^(?:LATIN (?:CAPITAL |SMALL )?LETTER (?:SMALL CAPITAL |DOTLESS )?"
    r"|(?:NEGATIVE )?(?:CIRCLED|SQUARED|PARENTHESIZED) LATIN (?:CAPITAL |SMALL )LETTER "
    r"|REGIONAL INDICATOR SYMBOL LETTER )([A-Z])(?: WITH .+)?$")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                      "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"})
_WORD = re.compile(r"[a-z0-9@$!|+]+")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s*\n\s*")  # a stop (then space) or a line break
JOIN_GAP = 3  # pieces of a word split by up to this many separator characters may be joined


@cache
def confusables() -> dict[int, str]:
    """One letter -> its plain Latin letter, for everything ``fold`` maps by hand or by name."""
    table = {ord(k): v for k, v in HOMOGLYPHS.items()}
    for cp in range(0x80, 0x1FC00):
        if (m := _LATIN_NAME.match(unicodedata.name(chr(cp), ""))) and cp not in table:
            table[cp] = m[1].lower()
    return table


def fold(text: str) -> str:
    """Lowercase ASCII: compatibility forms unified, invisible (format) characters dropped,
    look-alike letters mapped, accents removed, control characters other than the line break
    turned into spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")  # zero-width, bidi, soft hyphen, tags
    text = unicodedata.normalize("NFKD", text.casefold().translate(confusables()))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(c if c.isprintable() or c == "\n" else " " for c in text)  # line breaks kept: they end sentences
    return text.encode("ascii", "ignore").decode()


# a number with a unit is not leetspeak: 3d, 4k, 1080p, 35mm, 60fps, 2nd
_NUMBER_UNIT = re.compile(r"\d+(?:d|k|p|s|m|x|g|h|v|w|mm|cm|km|kg|mb|gb|tb|hz|fps|px|ms|mph|st|nd|rd|th|am|pm)")
_LEET_ONLY = re.compile(r"[0134578@$!|+]+")


def _leet(token: str) -> bool:
    """A word that mixes letters with digits or symbols standing for letters ("b0mb", "d13")."""
    return any(c.isalpha() for c in token) and any(not c.isalpha() for c in token) \
        and not _NUMBER_UNIT.fullmatch(token)


def _plain(token: str, leet: bool) -> str:
    """Leetspeak read as letters: in a word of two letters or more ("b0mb"), and when the
    prompt is written in leetspeak (``leet``) in every mixed word ("d13") and in digits that
    stand for letters ("70" = "to"); "!" or "|" at the end of a word is punctuation."""
    core = token.rstrip("!|") or token
    if _NUMBER_UNIT.fullmatch(core):
        return core
    letters = sum(c.isalpha() for c in core)
    if letters >= 2 or (leet and (letters or _LEET_ONLY.fullmatch(core))):
        return core.translate(LEET)
    return core


@dataclass(frozen=True)
class Token:
    word: str
    gap: str  # the characters between this word and the one before ("" for the first)


def tokens(text: str) -> list[Token]:
    """The words of folded text with what separates them."""
    found = list(_WORD.finditer(text))
    mixed = sum(_leet(m[0].rstrip("!|")) for m in found)
    leet = mixed >= 2 and mixed >= len(found) / 4  # the prompt is written in leetspeak
    out, end = [], 0
    for m in found:
        out.append(Token(_plain(m[0], leet), text[end : m.start()]))
        end = m.end()
    return out


def words(text: str) -> list[str]:
    """The words of a prompt after folding, with leetspeak read as letters (words that are
    plain numbers stay numbers)."""
    return [t.word for t in tokens(fold(text))]


def sentences(text: str) -> list[str]:
    """Folded text cut at sentence stops and line breaks (the classifier's windows)."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(fold(text))) if _WORD.search(s)]


def join_split(toks: list[Token], vocabulary: frozenset[str]) -> list[str]:
    """Words as the writer meant them: runs of three or more single letters ("b o m b") read
    as one word, and a word of ``vocabulary`` split by up to ``JOIN_GAP`` separators
    ("bo mb", "co\\tcaine", "pipe b.omb") read joined; every other word as it is."""
    return [t.word for t in join_tokens(toks, vocabulary)]


def join_tokens(toks: list[Token], vocabulary: frozenset[str]) -> list[Token]:
    """``join_split`` keeping what separates the words (a joined word keeps the gap in front
    of its first piece), for rules that read punctuation (a negated list ends at a stop)."""
    out: list[Token] = []
    i = 0
    while i < len(toks):
        joined = _joined(toks, i, vocabulary)
        if joined is not None:
            word, end = joined
            out.append(Token(word, toks[i].gap))
            i = end
            continue
        run = i
        while run < len(toks) and len(toks[run].word) == 1 and toks[run].word.isalpha() \
                and (run == i or _short_gap(toks[run].gap)):
            run += 1
        if run - i >= 3:
            out.append(Token("".join(t.word for t in toks[i:run]), toks[i].gap))
            i = run
        else:
            out.append(toks[i])
            i += 1
    return out


def _short_gap(gap: str) -> bool:
    return 0 < len(gap) <= JOIN_GAP and not any(c.isalnum() for c in gap)


def _joined(toks: list[Token], i: int, vocabulary: frozenset[str]) -> tuple[str, int] | None:
    """The longest join of 2..6 pieces from ``i`` that is a word of ``vocabulary`` (as written
    or with an inflection taken off), with where the next word starts."""
    for n in range(min(6, len(toks) - i), 1, -1):
        pieces = toks[i : i + n]
        if not all(_short_gap(t.gap) for t in pieces[1:]):
            continue
        word = "".join(t.word for t in pieces)
        if len(word) >= 4 and not vocabulary.isdisjoint(_stems(word)):
            return word, i + n
    return None


def _stems(word: str) -> set[str]:
    """The word and what it may be an inflection of ("bombs", "bombed", "bombing" -> "bomb";
    "tortured" -> "torture"): candidates only, checked against a vocabulary."""
    out = {word}
    for end in ("s", "es", "ed", "d", "er", "ers", "ing"):
        if word.endswith(end) and len(word) - len(end) >= 3:
            stem = word[: -len(end)]
            out |= {stem, stem + "e", stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem}
    return out


@cache
def lemma(word: str) -> str:
    import simplemma

    return str(simplemma.lemmatize(word, lang="en"))


@cache
def known(word: str) -> bool:
    """Whether ``word`` is an English word simplemma knows."""
    import simplemma

    return bool(simplemma.is_known(word, lang="en"))


def lemmas(tokens: list[str]) -> list[str]:
    return [lemma(w) for w in tokens]
