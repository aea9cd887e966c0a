"""The model catalog: every checkpoint worldgraph can load, found along one search path.

A checkpoint is ``NAME.safetensors`` beside its card ``NAME.json`` (config, sha256 of the
weights, how it was made, figures). The card names its ``family`` (what code loads it) and
``name``. Folders are searched in this order, and the first card of a name wins:

1. ``$WORLDGRAPH_MODELS``: folders separated by ``os.pathsep`` (``:`` on Linux);
2. the user folder, ``$XDG_DATA_HOME/worldgraph/models`` (``~/.local/share/worldgraph/models``),
   where ``worldgraph models add`` puts a user's own checkpoints;
3. the shipped set, ``SHIPPED``.

This is the only module that lists checkpoints. It reads the folders on every call (a
checkpoint exported a moment ago is there; parsed cards are reused only while the file's
size and time are unchanged), and a card it cannot read is reported by ``problems()``
(``worldgraph models list`` / ``verify``) and skipped everywhere else. Standard library
only: node choices and ``worldgraph validate`` use it without importing torch.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .media.files import sha256

SHIPPED = Path(__file__).resolve().parent / "checkpoints"  # the shipped weights (one place to move them)
ENV = "WORLDGRAPH_MODELS"

# family -> what its checkpoints are (the families code loads; a card names one of them)
FAMILIES: dict[str, str] = {
    "tokenizer": "causal video tokenizer (cv: continuous latents, dv: discrete FSQ tokens)",
    "wfm": "diffusion world model (Text2World, Video2World)",
    "action": "action-conditioned world model (post-trained from a wfm)",
    "camera": "camera-conditioned world model (post-trained from a wfm)",
    "controlnet": "ControlNet branch of a world model (Transfer), one per modality",
    "ar": "autoregressive world model over a discrete tokenizer's tokens",
    "estimator": "depth or segmentation estimator (RGB -> control)",
    "guard": "prompt guard classifier head (on MiniLM sentence embeddings)",
    "colours": "colour table of the Text2World prompt-adherence check",
}

LABELS = {"wfm": "world-model", "action": "action-conditioned world-model", "camera": "camera-conditioned world-model",
          "controlnet": "ControlNet", "ar": "autoregressive model", "guard": "prompt classifier",
          "colours": "colour table"}  # how messages name a family's checkpoints (else the family's name)


class CheckpointError(Exception):
    """A checkpoint cannot be found or loaded; the message names the file and why."""


@dataclass(frozen=True)
class Entry:
    """One checkpoint: its card (the .json) and what the card says."""

    name: str
    family: str
    card: Path
    origin: str  # env | user | shipped: which part of the search path holds it
    meta: dict[str, Any] = field(compare=False, hash=False, repr=False)
    version: str = ""  # changes when the card or the weights change: what loaders cache a model on

    @property
    def weights(self) -> Path:
        return self.card.with_suffix(".safetensors")

    @property
    def sha256(self) -> str:
        return str(self.meta.get("sha256", ""))

    @property
    def config(self) -> dict[str, Any]:
        config = self.meta.get("config")
        return config if isinstance(config, dict) else {}

    @property
    def kind(self) -> str:
        """A tokenizer's kind, cv or dv, from its config (empty for other families)."""
        return str(self.config.get("kind", "cv")) if self.family == "tokenizer" else ""

    @property
    def base(self) -> str:
        """The model this one builds on (a ControlNet's or a post-trained model's world model)."""
        return str(self.config.get("base") or self.meta.get("base") or "")

    @property
    def made_from(self) -> str:
        """The checkpoint this one was trained from (``init`` / ``starts_from``), or its base."""
        for key in ("made_from", "starts_from", "init"):
            if self.meta.get(key):
                return describe_origin(self.meta[key])
        return self.base

    @property
    def data(self) -> str:
        return str(self.meta.get("data", ""))

    @property
    def metrics(self) -> dict[str, Any]:
        """The figures the card records: ``metrics`` and every ``heldout_*`` entry."""
        found = dict(self.meta["metrics"]) if isinstance(self.meta.get("metrics"), dict) else {}
        return found | {k: v for k, v in self.meta.items() if k.startswith("heldout")}

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "kind": self.kind, "card": str(self.card),
                "weights": str(self.weights), "origin": self.origin, "sha256": self.sha256,
                "made_from": self.made_from, "base": self.base, "data": self.data,
                "recipe": self.meta.get("recipe", ""), "command": self.meta.get("command", ""),
                "metrics": self.metrics}


@dataclass(frozen=True)
class Problem:
    """A card the catalog cannot use, and why."""

    card: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.card}: {self.reason}"


def describe_origin(origin: Any) -> str:
    """``init`` / ``starts_from`` as one line: a checkpoint name, or the run it came from."""
    if isinstance(origin, dict):
        recipe = origin.get("recipe") or "a run"
        sha = str(origin.get("sha256", ""))[:12]
        return f"{recipe} run" + (f" (sha256 {sha})" if sha else "")
    return str(origin)


def user_folder() -> Path:
    """Where a user's own checkpoints go: ``$XDG_DATA_HOME/worldgraph/models``."""
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "worldgraph" / "models"


def folders() -> list[tuple[str, Path]]:
    """The search path, first wins: (origin, folder) pairs."""
    found = [("env", Path(p).expanduser()) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return found + [("user", user_folder()), ("shipped", SHIPPED)]


def infer_family(meta: dict[str, Any]) -> str | None:
    """The family of a card written before cards named theirs (what the loaders used to sniff)."""
    config = meta.get("config")
    config = config if isinstance(config, dict) else {}
    if "fsq_levels" in config:
        return "tokenizer"
    if "sigma_data" in config:
        return str(meta.get("kind", "wfm"))
    if "vocabulary" in config:
        return "ar"
    if "modality" in config and "base" in config:
        return "controlnet"
    if "task" in config:
        return "estimator"
    if "categories" in meta:
        return "guard"
    if "classes" in meta and "bits" in meta:
        return "colours"
    return None


_parsed: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}  # card -> ((mtime_ns, size), meta)


def read_card(card: Path) -> dict[str, Any]:
    """A card's JSON object (shared: do not change it), or CheckpointError saying why it
    cannot be read."""
    try:
        stat = card.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = _parsed.get(card)
        if known is not None and known[0] == stamp:
            return known[1]
        meta = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{card}: cannot read the checkpoint description ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{card}: not a checkpoint description (expected a JSON object)")
    _parsed[card] = (stamp, meta)
    return meta


def entry_of(card: Path, origin: str = "path", expect: str | None = None) -> Entry:
    """The entry of one card, checked: readable, of a known family (``expect`` where the card
    does not say and nothing tells), weights beside it. A checkpoint's name is its file's."""
    meta = read_card(card)
    family = meta.get("family") or infer_family(meta) or expect
    if family not in FAMILIES:
        known = ", ".join(FAMILIES)
        raise CheckpointError(f"{card}: " + (f"unknown family {family!r} (known: {known})" if family else
                                             f"no family (add \"family\": one of {known})"))
    try:
        weights = card.with_suffix(".safetensors").stat()
    except OSError:
        raise CheckpointError(f"{card}: no weights beside it ({card.with_suffix('.safetensors').name})") from None
    (card_time, card_size), _ = _parsed[card]
    version = f"{meta.get('sha256', '')}:{card_time}:{card_size}:{weights.st_mtime_ns}:{weights.st_size}"
    return Entry(card.stem, str(family), card, origin, meta, version)


def scan() -> tuple[list[Entry], list[Problem]]:
    """Every card along the search path, in search order (shadowed ones included), and the
    cards that cannot be used."""
    entries, problems = [], []
    for origin, folder in folders():
        try:
            cards = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
        except OSError as e:
            problems.append(Problem(folder, f"cannot list the folder ({e.strerror or e})"))
            continue
        for card in cards:
            try:
                entry = entry_of(card, origin)
            except CheckpointError as e:
                problems.append(Problem(card, str(e).removeprefix(f"{card}: ")))
                continue
            if entry.meta.get("name", entry.name) != entry.name:
                problems.append(Problem(card, f"the card names {entry.meta['name']!r}: a checkpoint is named as its "
                                              f"file ({entry.name!r}); rename one of them"))
                continue
            entries.append(entry)
    return entries, problems


def entries(family: str | None = None) -> list[Entry]:
    """The checkpoints found, the first of each name, sorted by family then name."""
    seen: dict[str, Entry] = {}
    for entry in scan()[0]:
        seen.setdefault(entry.name, entry)
    chosen = [e for e in seen.values() if family is None or e.family == family]
    order = list(FAMILIES)
    return sorted(chosen, key=lambda e: (order.index(e.family), e.name))


def names(family: str) -> list[str]:
    return [e.name for e in entries(family)]


def shadowed() -> list[tuple[Entry, Entry]]:
    """(hidden, winner) for every card a card of the same name earlier on the path hides."""
    winners: dict[str, Entry] = {}
    hidden = []
    for entry in scan()[0]:
        if entry.name in winners:
            hidden.append((entry, winners[entry.name]))
        else:
            winners[entry.name] = entry
    return hidden


def problems() -> list[Problem]:
    return scan()[1]


def find(name: str, family: str | None = None, folder: Path | None = None) -> Entry:
    """The checkpoint ``name`` (of ``family``): a catalog name, or a path to a card (.json);
    ``folder``: look only there. Otherwise a CheckpointError naming what there is."""
    what = LABELS.get(family, family) if family else "model"
    if name.endswith(".json") or folder is not None:
        card = Path(name) if name.endswith(".json") else Path(folder or ".") / f"{name}.json"
        if not card.is_file() or not card.with_suffix(".safetensors").is_file():
            there = in_folder(folder, family) if folder is not None else names(family) if family else []
            raise CheckpointError(f"no {what} checkpoint {name!r} ({card} / {card.with_suffix('.safetensors').name})"
                                  f"; installed{' there' if folder is not None else ''}: {', '.join(there) or 'none'}")
        entry = entry_of(card, expect=family)
    else:
        entry = next((e for e in entries() if e.name == name), None)  # type: ignore[assignment]
        if entry is None:
            listed = names(family) if family else [e.name for e in entries()]
            unusable = [p for p in problems() if p.card.stem == name]
            why = f" ({unusable[0]})" if unusable else ""
            raise CheckpointError(f"no {what} checkpoint {name!r}{why}; installed: {', '.join(listed) or 'none'} "
                                  f"(searched {', '.join(str(f) for _, f in folders())})")
    if family is not None and entry.family != family:
        raise CheckpointError(f"{entry.card}: a {entry.family} checkpoint, not a {family} one")
    return entry


def in_folder(folder: Path, family: str | None = None) -> list[str]:
    """The usable checkpoints (of ``family``) in one folder, off the search path."""
    found = []
    for card in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entry = entry_of(card)
        except CheckpointError:
            continue
        if family is None or entry.family == family:
            found.append(entry.name)
    return found




def add(card: Path, folder: Path | None = None, replace: bool = False) -> Entry:
    """Copy a checkpoint (``card`` and the weights beside it) into ``folder`` (default: the
    user folder) after checking the weights against the card's sha256. The weights land
    first and the card last, each under a temporary name then renamed, so a half-copied
    checkpoint is never listed. A card without ``family`` / ``name`` gets them."""
    source = entry_of(card)
    if not source.sha256:
        raise CheckpointError(f"{card}: the card has no sha256 of its weights")
    if sha256(source.weights) != source.sha256:
        raise CheckpointError(f"{source.weights}: sha256 differs from {card.name}: the file is truncated or "
                              "not the one the card describes")
    target = (folder or user_folder()) / card.name
    if target.resolve() == card.resolve():
        raise CheckpointError(f"{card} is already in {target.parent}")
    if target.exists() and not replace:
        raise CheckpointError(f"{target} exists: remove it first, or add with --replace")
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = {"family": source.family, "name": source.name} | source.meta
    for write, dest in ((lambda tmp: shutil.copyfile(source.weights, tmp), target.with_suffix(".safetensors")),
                        (lambda tmp: tmp.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n"), target)):
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            write(tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
    if sha256(target.with_suffix(".safetensors")) != source.sha256:
        raise CheckpointError(f"{target.with_suffix('.safetensors')}: the copy differs from {source.weights}")
    return entry_of(target, "user" if folder is None else "path")


# ------------------------------------------------------------------------------ tables


def markdown_table(found: list[Entry] | None = None) -> str:
    """The shipped models as a Markdown table (the README's, checked by a test)."""
    rows = ["| model | family | builds on | trained from | data | figures in its card | sha256 |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for e in found if found is not None else [e for e in entries() if e.origin == "shipped"]:
        family = f"{e.family} ({e.kind})" if e.kind else e.family
        figures = "; ".join(f"{k}: {format_figure(v)}" for k, v in e.metrics.items())
        made = e.made_from if e.made_from != e.base else ""
        cells = [f"`{e.name}`", family, f"`{e.base}`" if e.base else "", made, f"`{e.data}`" if e.data else "",
                 figures, f"`{e.sha256[:12]}`"]
        rows.append("| " + " | ".join(c or "–" for c in cells) + " |")
    return "\n".join(rows) + "\n"


def format_figure(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {format_figure(v)}" for k, v in value.items())
    return f"{value:g}" if isinstance(value, float) else str(value)
