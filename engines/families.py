"""The catalog's families in code: how each loads a checkpoint (``worldgraph models verify``)
and which engine parts the installed checkpoints export (``worldgraph engines``).

This module imports every family; no family imports it. A family declares its parts
beside its model and hands the ``Part`` itself to ``engines.runtime``, so the runtime
never needs this list.
"""

from __future__ import annotations

from typing import Any

from . import catalog
from .ar import api as ar
from .estimate import api as estimators
from .guard import classifier
from .post import camera_api
from .runtime.spec import Part
from .text import tokens_part
from .tokenizer import checkpoint as tokenizers
from .tokenizer import parts as tokenizer_parts
from .transfer import api as transfer
from .wfm import api as wfm
from .wfm import colours


def load(entry: catalog.Entry) -> Any:
    """Load ``entry`` with its family's loader: the weights' sha256 and every tensor name
    and shape against the card's config (CheckpointError naming what differs)."""
    card = str(entry.card)
    if entry.family == "tokenizer":
        return tokenizers.load(card)
    if entry.family in ("wfm", "action"):
        return wfm.load(card, kind=entry.family)
    if entry.family == "camera":
        return camera_api.load(card)
    if entry.family == "controlnet":
        return transfer.branch_of(entry.card, wfm.load(entry.base or wfm.DEFAULT))
    if entry.family == "ar":
        return ar.load(card)
    if entry.family == "estimator":
        return estimators.load_card(entry.card, entry.version)
    if entry.family == "guard":
        return classifier.load_card(entry.card, entry.version)
    if entry.family == "colours":
        return colours.read_table(entry.card)
    raise catalog.CheckpointError(f"{entry.card}: no loader for the {entry.family} family")


def verify(entry: catalog.Entry) -> list[str]:
    """What is wrong with ``entry``: its weights' sha256, then loading it (names, shapes,
    the checkpoints it depends on); empty when it loads."""
    if not entry.sha256:
        return ["the card records no sha256 of its weights"]
    try:
        if catalog.sha256(entry.weights) != entry.sha256:
            return [f"{entry.weights.name}: sha256 differs from the card: the file is truncated, changed or "
                    "not the one the card describes"]
        load(entry)
    except catalog.CheckpointError as e:
        return [str(e)]
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:  # a config the model cannot take
        return [f"cannot load it: {type(e).__name__}: {e}"]
    return []


def parts_of(entry: catalog.Entry) -> list[Part]:
    """The engine parts of one checkpoint (none for families that run in torch only)."""
    if entry.family == "tokenizer":
        return tokenizer_parts.parts(entry.name)
    if entry.family == "wfm":
        return [wfm.net_part(entry.name)]
    if entry.family == "estimator" and entry.name in (estimators.checkpoint_name(t) for t in estimators.TASKS):
        return [estimators.part(str(entry.config.get("task")))]
    if entry.family == "guard" and entry.name == classifier.NAME:
        return [classifier.part()]
    return []


def parts() -> dict[str, Part]:
    """Every exportable part of the installed models, by name (read from the catalog now)."""
    found = [p for entry in catalog.entries() for p in parts_of(entry)] + [tokens_part()]
    return {p.name: p for p in found}


def find_part(name: str) -> Part:
    known = parts()
    if name not in known:
        raise KeyError(f"no exportable part {name!r}; known: {', '.join(known)}")
    return known[name]


def select(names: list[str]) -> list[Part]:
    """Parts by name, a model name standing for all its parts; none named: every part."""
    known = parts()
    if not names:
        return list(known.values())
    chosen: list[Part] = []
    for name in names:
        found = [p for p in known.values() if p.name == name or p.name.startswith(name + ".")]
        if not found:
            raise KeyError(f"no model or part {name!r}; known: {', '.join(known)}")
        chosen += [p for p in found if p not in chosen]
    return chosen
