"""The blocklist stage: words and phrases, an allow list and exact prompts, as text files.

An entry matches whole words of the folded prompt or of its lemmas; a long word (6+
letters) also matches a near spelling (SequenceMatcher ratio >= (len - 0.4) / len, as
Cosmos does); letters spaced out ("b o m b") and a listed word split in pieces ("bo mb",
"co\\tcaine") are read joined. An allowed phrase exempts only its own words: an entry that
reaches past it still matches, and an allowed phrase that ends in a listed word followed by
an object ("bath bomb the school") is read as that word used as a verb and exempts nothing.
Words a negation covers ("no nudity", "avoid blood, weapons and nudity", "without any gore or
nudity") are a wish to avoid them, not a match; ``negated`` says how far a negation reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property
from pathlib import Path

from .text import Token, fold, join_split, join_tokens, known, lemma, lemmas, tokens, words

LISTS = Path(__file__).resolve().parent / "lists"
# words that start an object: after a listed word they make it a verb ("bomb the school")
OBJECTS = frozenset({"the", "a", "an", "this", "that", "these", "those", "his", "her", "their", "our", "my",
                     "your", "its", "them", "him", "us", "me", "everyone", "everybody", "people", "it"})
MEASURES = frozenset({"size", "shape", "colour", "color", "length", "width", "height", "weight", "way"})

# ------------------------------------------------------------------ how far a negation reaches
NEGATIONS = frozenset({"no", "not", "without", "avoid", "avoids", "avoiding", "non", "neither", "nor"})
# a negation right after one of these is undone ("do not avoid nudity", "don't avoid", "never avoid")
UNDO = NEGATIONS | {"never", "t", "dont", "doesnt", "didnt", "cannot", "cant", "wont", "shouldnt", "mustnt"}
NOT_NEGATIONS = {"no": frozenset({"one", "matter", "longer", "sooner", "doubt", "way", "less", "fewer", "end"}),
                 "not": frozenset({"only", "just", "merely", "simply", "even"})}  # "no one stops him"
# "not" after these negates a verb ("they do not deserve to live"), not a list of things to leave out
AUXILIARIES = frozenset({"do", "does", "did", "is", "are", "was", "were", "be", "been", "am", "will", "would", "can",
                         "could", "should", "must", "may", "might", "shall", "has", "have", "had", "to"})
SEPARATORS = frozenset({"and", "or", "nor"})  # between the items of a list (and "," "/" "&")
ITEM_WORDS = 3  # an item of a negated list is a short noun phrase ("fake blood", "explicit content")
# a list ends at a conjunction that starts a new clause ...
ENDS = frozenset({"but", "yet", "except", "instead", "then", "while", "though", "although", "unless", "until",
                  "so", "because", "when", "where", "which", "who", "whose", "if", "whereas", "plus", "to"})
# ... at an item that starts like a new phrase or asks for more ("no blood, full nudity"), or
# after a bare comma describes ("no blood, explicit nudity"; "no gore and explicit nudity" goes on) ...
NEW_PHRASE = frozenset({"a", "an", "the", "this", "that", "these", "those", "his", "her", "their", "my", "your",
                        "our", "its", "one", "some", "full", "fully", "total", "totally", "complete", "completely",
                        "lots", "lot", "plenty", "tons", "more", "extra", "max", "maximum", "only", "just",
                        "uncensored", "hardcore", "real", "actual", "actually", "all", "much", "heavy", "extreme",
                        "extremely", "very", "too", "rather", "also", "with", "yes", "everything", "he", "she",
                        "they", "i", "we", "you", "it", "there", "here", "now"})
DETERMINERS = frozenset({"a", "an", "the", "this", "that", "these", "those", "his", "her", "their", "my", "your",
                         "our", "its"})  # inside an item, after a word other than a preposition: a new phrase
DESCRIBING = frozenset({"explicit", "graphic", "detailed", "realistic", "close", "closeup", "visible"})
# ... at a verb: an auxiliary or common verb, a word taking an object ("stab someone", "stops
# the man"), a word in -ing with a word after it ("avoid showing nudity")
VERBS = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "has", "have",
                   "had", "will", "would", "can", "could", "should", "must", "may", "might", "shall", "let", "lets",
                   "make", "makes", "made", "show", "shows", "showed", "shown", "see", "sees", "seen", "give",
                   "gives", "gave", "get", "gets", "got", "take", "takes", "took", "put", "puts", "go", "goes",
                   "went", "come", "comes", "came", "become", "becomes", "became", "keep", "keeps", "kept",
                   "stop", "stops", "stopped", "start", "starts", "started", "begin", "begins", "began",
                   "include", "includes", "included", "depict", "depicts", "depicted", "add", "adds", "added",
                   "want", "wants", "need", "needs", "allow", "allows", "happen", "happens", "appear", "appears"})
VERB_OBJECTS = frozenset({"the", "a", "an", "this", "that", "these", "those", "his", "her", "their", "my", "your",
                          "our", "its", "them", "him", "us", "me", "it", "someone", "somebody", "everyone",
                          "everybody", "anyone", "anybody"})
PREPOSITIONS = frozenset({"in", "on", "at", "of", "for", "with", "from", "to", "by", "into", "onto", "under",
                          "over", "near", "about", "around", "inside", "outside", "behind", "between", "against",
                          "across", "through", "towards", "toward", "during", "like", "and", "or", "nor"})
# a negation of these asks for what they would hide ("no censorship, nudity", "without clothes"):
# it covers nothing
FREEING = frozenset({"censorship", "censor", "censored", "censoring", "clothes", "clothing", "clothed", "filter",
                     "filters", "filtering", "limit", "limits", "restriction", "restrictions", "rule", "rules",
                     "boundary", "boundaries", "blur", "blurring", "pixelation", "pixelated", "mosaic", "cover",
                     "covering", "covered", "mercy", "shame", "modesty", "holding", "hold", "taboo", "taboos",
                     "underwear", "bra", "panties", "shirt", "top", "pants", "towel", "dress", "swimsuit",
                     "bikini", "restraint", "safe", "sfw", "appropriate", "decent", "modest", "clean", "tasteful",
                     "friendly", "kid", "family"})
_STOP = frozenset(".;:!?()[]{}\n")  # a sentence or clause stop between two words
_LIST = frozenset(",/&")


def negations(toks: Sequence[Token]) -> dict[int, set[int]]:
    """Each negation (its position) and the positions of the words it covers: a negation
    ("no", "not", "without", "avoid", "neither ... nor") covers the list that follows it
    ("avoid blood, weapons and nudity", "no gore or nudity", "without any violence, blood or
    weapons"), items of up to ``ITEM_WORDS`` words between commas, "and", "or", "nor". The
    list ends at a stop (. ; : ! ? brackets, a line break), a clause word ("but", "then",
    ...), another negation, a verb, an item that starts a new phrase or asks for more ("no
    blood, a naked woman", "no gore, full nudity"), an article inside an item ("without
    hesitation a man ..."). A negation right after another one or after "never", "don't", ...
    is undone ("do not avoid nudity"), so is one of what would hide the rest ("no censorship",
    "without clothes"): they cover nothing; "no one", "not only", "not" after an auxiliary
    ("they do not deserve ...") and a split word ("a no ose") are no negations."""
    ws = [t.word for t in toks]
    out: dict[int, set[int]] = {}
    i = 0
    while i < len(ws):
        nxt = ws[i + 1] if i + 1 < len(ws) else ""
        if ws[i] not in NEGATIONS or nxt in NOT_NEGATIONS.get(ws[i], ()) or _split(ws[i], nxt) \
                or (ws[i] == "not" and i > 0 and ws[i - 1] in AUXILIARIES):
            i += 1
            continue
        covered, end, freeing = _scope(toks, ws, i)
        if covered and not freeing and not (i > 0 and ws[i - 1] in UNDO):
            out[i] = covered
        i = max(end, i + 1)
    return out


def negated(toks: Sequence[Token]) -> set[int]:
    """The positions of every word a negation covers (``negations``)."""
    return {j for covered in negations(toks).values() for j in covered}


def _scope(toks: Sequence[Token], ws: list[str], i: int) -> tuple[set[int], int, bool]:
    """The words the negation at ``i`` covers, where its list ends, and whether its first item
    is one that would hide the rest (``FREEING``)."""
    covered: set[int] = set()
    first, start, size, freeing, bare = True, True, 0, False, False
    j = i + 1
    while j < len(ws):
        w, gap = ws[j], toks[j].gap
        if not _STOP.isdisjoint(gap):
            break
        if not _LIST.isdisjoint(gap):  # a comma ends an item
            if freeing or size == 0:
                break
            first, start, size, bare = False, True, 0, True
        if w in SEPARATORS:  # so does "and" / "or" (", and" once)
            if freeing or (size == 0 and not bare):
                break
            first, start, size, bare = False, True, 0, False
            j += 1
            continue
        if w in UNDO or w in ENDS or _verb(toks, ws, j):
            break
        if start and w == "any":  # "without any violence"
            j += 1
            continue
        if start and not first and (w in NEW_PHRASE or w in PREPOSITIONS or (bare and w in DESCRIBING)):
            break
        if size == ITEM_WORDS or (not start and w in DETERMINERS and ws[j - 1] not in PREPOSITIONS):
            break
        if w in PREPOSITIONS and w != "of":  # "no blood on the floor": the list is "blood"
            break
        covered.add(j)
        size, start = size + 1, False
        freeing = freeing or (first and (w in FREEING or lemma(w) in FREEING))
        j += 1
    return covered, j, freeing


def unnegated(toks: Sequence[Token]) -> list[Token]:
    """The words less each negation and the list it covers ("a beach, no nudity or gore" ->
    "a beach"): what the prompt asks for, as the classifier reads it."""
    drop = {k for i, covered in negations(toks).items() for k in range(i, max(covered) + 1)}
    return [t for j, t in enumerate(toks) if j not in drop]


def _split(cue: str, nxt: str) -> bool:
    """A word split after its first letters, not a negation ("a no ose" is "a noose")."""
    return bool(nxt) and not known(nxt) and known(cue + nxt)


def _verb(toks: Sequence[Token], ws: list[str], j: int) -> bool:
    w = ws[j]
    if w in VERBS:
        return True
    if j + 1 >= len(ws) or w in PREPOSITIONS or w in VERB_OBJECTS or w == "any":
        return False
    nxt, gap = ws[j + 1], toks[j + 1].gap
    if not (_STOP.isdisjoint(gap) and _LIST.isdisjoint(gap)) or nxt in SEPARATORS:
        return False
    return nxt in VERB_OBJECTS or (w.endswith("ing") and len(w) > 4)


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
        joined = join_tokens(tokens(fold(prompt)), self.vocabulary)
        toks = [t.word for t in joined]
        if " ".join(toks) in self.exact:
            return [Match("exact", " ".join(toks), fold(prompt).strip())]
        spans = self._allowed(toks)
        off = negated(joined)
        forms = [toks, lemmas(toks)]
        found: list[Match] = []
        for entry, category in self.block.items():
            hit = next((i for seq in forms for i in _find_all(seq, entry)
                        if not _exempt(i, i + len(entry), spans, off)), None)
            if hit is not None:
                found.append(Match(category, " ".join(entry), " ".join(toks[hit : hit + len(entry)])))
            elif len(entry) == 1 and len(entry[0]) >= 6 and (near := _near(entry[0], toks, spans, off)):
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


def _exempt(start: int, end: int, spans: Sequence[tuple[int, int]], off: set[int] | frozenset[int]) -> bool:
    """Words inside one allowed span, or all covered by a negation (``off``: "no nudity")."""
    if all(k in off for k in range(start, end)):
        return True
    return any(a <= start and end <= b for a, b in spans)


def _near(word: str, toks: list[str], spans: Sequence[tuple[int, int]] = (),
          off: set[int] | frozenset[int] = frozenset()) -> str | None:
    threshold = (len(word) - 0.4) / len(word)
    for i, t in enumerate(toks):
        if abs(len(t) - len(word)) > 2 or _exempt(i, i + 1, spans, off):
            continue
        m = SequenceMatcher(None, word, lemma(t))
        if m.real_quick_ratio() >= threshold and m.quick_ratio() >= threshold and m.ratio() >= threshold:
            return t
    return None
