"""Prompt text as the blocklist sees it: plain lowercase ASCII words, whatever tricks the
writer used (accents, look-alike letters from other scripts, leetspeak, zero-width or
control characters, spacing inside words)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# letters of other scripts that look like Latin ones (Cyrillic, Greek, fullwidth is NFKC's)
HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ѵ": "v", "ӏ": "l",
})
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                      "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"})
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_WORD = re.compile(r"[a-z0-9@$!|+]+")


def fold(text: str) -> str:
    """Lowercase ASCII: compatibility forms unified, invisible characters dropped, look-alike
    letters mapped, accents removed, control characters turned into spaces."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = text.lower().translate(HOMOGLYPHS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(c if c.isprintable() else " " for c in text)
    return text.encode("ascii", "ignore").decode()


def words(text: str) -> list[str]:
    """The words of a prompt after folding, with leetspeak read as letters (words that are
    plain numbers stay numbers)."""
    out = []
    for w in _WORD.findall(fold(text)):
        out.append(w if w.isdigit() else w.translate(LEET))
    return out


@cache
def lemma(word: str) -> str:
    import simplemma

    return str(simplemma.lemmatize(word, lang="en"))


def lemmas(tokens: list[str]) -> list[str]:
    return [lemma(w) for w in tokens]
