"""What a model family gives the training loop: its recipes, and for one run its data,
model, batches, loss and exported card (a ``Trainer`` subclass per family)."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from .precision import scheduled_lr


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """What every family's recipe has and the loop reads: how many steps, the learning
    rate (linear warm-up, then a cosine down to 10 % by ``decay_steps``), how often the run
    is saved, and its seed. A family's ``Recipe`` extends it (``kw_only``: the family's own
    first field, a model or task, stays positional with ``field(kw_only=False)``)."""

    steps: int
    lr: float = 3e-4
    warmup: int = 300
    decay_steps: int = 30_000  # cosine down to 10% of lr by here
    checkpoint_seconds: float = 180.0
    seed: int = 0


class EMARun(nn.Module):
    """A network in training and the exponential moving average of its weights (what
    ships): after warm-up the loop moves ``ema`` towards ``net`` by 1 - ``decay`` a step."""

    def __init__(self, net: nn.Module, decay: float = 0.999) -> None:
        super().__init__()
        self.net = net
        self.ema = copy.deepcopy(net).requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update_ema(self, decay: float) -> None:
        for e, p in zip(self.ema.parameters(), self.net.parameters(), strict=True):
            e.lerp_(p, 1 - decay)


@dataclass(frozen=True)
class Context:
    """Where one run trains: its data, folder, device, the family's arguments (recorded in
    the run and checked on resume) and the encoding progress callback."""

    data: Path
    run_dir: Path
    device: torch.device
    arguments: Mapping[str, str] = field(default_factory=dict)
    encoding: Callable[[int, int], None] | None = None
    resuming: bool = False

    def cached(self, name: str, build: Callable[[Path], object]) -> Path:
        """The cache ``name`` in the run folder, built by ``build(path)`` when it is missing."""
        path = self.run_dir / name
        if not path.exists():
            build(path)
        return path


class Trainer:
    """One family's part of a run. Subclass it, naming the family, its recipes and their
    type (``class WorldModel(Trainer, family="wfm", recipes=RECIPES, recipe=Recipe)``), and
    fill in:

    - ``prepare()``: the data of a run of ``self.recipe`` (caches in the run folder);
    - ``model(fresh)``: the run module (an ``EMARun`` to keep an average), its starting
      weights loaded when ``fresh`` (a resumed run loads its own);
    - ``batch(rng, step)``: the whole step's batch, every random draw made here (numpy from
      ``rng``, torch from its global generator), every tensor batch-major;
    - ``loss(run, batch)``: the mean loss over the batch's items, with no random draws (the
      loop gives each process a slice of the batch);
    - ``saved(state)`` / ``export(run, state, folder)``: the empty run module of a saved run,
      and its shipped checkpoint(s) with their cards.
    """

    family: ClassVar[str]  # the CLI's name: worldgraph train <family>
    recipes: ClassVar[dict[str, Any]]  # the shipped recipes
    recipe_type: ClassVar[type]  # the family's Recipe dataclass
    arguments: ClassVar[tuple[str, ...]] = ()  # run inputs besides the recipe (controlnet: modality)
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    bf16: ClassVar[bool] = True  # train under bf16 autocast where it is fast (precision.autocast)

    def __init_subclass__(cls, family: str = "", recipes: dict[str, Any] | None = None, recipe: type | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if family:
            cls.family = family
        if recipes is not None:
            cls.recipes = recipes
        if recipe is not None:
            cls.recipe_type = recipe

    def __init__(self, recipe: Any, ctx: Context) -> None:
        self.recipe, self.ctx = recipe, ctx
        self.prepare()

    def prepare(self) -> None:
        raise NotImplementedError

    def model(self, fresh: bool) -> nn.Module:
        raise NotImplementedError

    def optimizer(self, run: nn.Module) -> torch.optim.Optimizer:
        """AdamW over what trains (a parameter group's ``lr_scale`` multiplies the schedule)."""
        trained = [p for p in run.parameters() if p.requires_grad]
        return torch.optim.AdamW(trained, lr=self.recipe.lr, betas=(0.9, 0.99), weight_decay=0.01)

    def batch(self, rng: np.random.Generator, step: int) -> Any:
        raise NotImplementedError

    def loss(self, run: nn.Module, batch: Any) -> torch.Tensor:
        raise NotImplementedError

    def lr(self, step: int) -> float:
        r = self.recipe
        return scheduled_lr(r.lr, step, r.warmup, r.decay_steps)

    def before_step(self, run: nn.Module, step: int) -> None:
        """Change what trains at ``step`` (``requires_grad``); the loop follows."""

    def meta(self) -> dict[str, Any]:
        """What the run's JSON records besides the loop's own fields."""
        return {}

    @classmethod
    def saved(cls, state: dict[str, Any]) -> nn.Module:
        raise NotImplementedError

    @classmethod
    def export(cls, run: nn.Module, state: dict[str, Any], folder: Path) -> list[Path]:
        raise NotImplementedError


# ------------------------------------------------------------------------------ recipes


def register_recipe(family: type[Trainer], name: str, recipe: Any) -> None:
    """Offer ``recipe`` as ``name`` beside the family's shipped recipes (tests, plugins)."""
    if not isinstance(recipe, family.recipe_type):
        raise TypeError(f"a {family.family} recipe is a {family.recipe_type.__name__}, not {type(recipe).__name__}")
    family.recipes[name] = recipe


def unregister_recipe(family: type[Trainer], name: str) -> None:
    family.recipes.pop(name, None)


def resolve(family: type[Trainer], recipe: str | Path | Any) -> tuple[str, Any]:
    """A run's recipe and its name: a recipe's name, a Recipe, or a .json file of fields
    over a named one ({"from": "wfm-cv4x8x8-gpu", "batch": 1024, "steps": 20000})."""
    if isinstance(recipe, family.recipe_type):
        return getattr(recipe, "name", "") or f"{family.family}-recipe", recipe
    text = str(recipe)
    if text.endswith(".json"):
        try:
            fields = json.loads(Path(text).read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"{text}: cannot read the recipe ({e})") from None
        if not isinstance(fields, dict):
            raise ValueError(f"{text}: a recipe file holds a JSON object of recipe fields")
        start = fields.pop("from", None)
        base = resolve(family, start)[1] if start else None
        return text, from_fields(family.recipe_type, fields, base)
    if text not in family.recipes:
        raise ValueError(f"unknown recipe {text!r}; recipes: {', '.join(family.recipes)}")
    return text, family.recipes[text]


def from_fields(kind: type, fields: Mapping[str, Any], base: Any = None) -> Any:
    """A ``kind`` recipe from JSON fields (lists back to tuples), over ``base`` if given."""
    known = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(f"unknown {kind.__module__.split('.')[-2]} recipe field(s): {', '.join(unknown)}; "
                         f"fields: {', '.join(known)}")
    hints = typing.get_type_hints(kind)
    values = {k: tuple(v) if isinstance(v, list) and "tuple" in str(hints[k]) else v for k, v in fields.items()}
    try:
        return dataclasses.replace(base, **values) if base is not None else kind(**values)
    except TypeError as e:
        raise ValueError(f"recipe fields: {e}") from None


def recipe_of(family: type[Trainer], state: Mapping[str, Any]) -> Any:
    """The recipe a saved run trained on, from its recorded settings (fields it does not know
    any more are left out, fields it did not know yet take their defaults)."""
    known = {f.name for f in dataclasses.fields(family.recipe_type)}
    return from_fields(family.recipe_type, {k: v for k, v in state["settings"].items() if k in known})
