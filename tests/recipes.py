"""The tiny recipes the tests train (a few steps of tiny presets): registered beside the
shipped recipes for the test session (``conftest.py`` in the test folders that train),
never shipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def tiny() -> list[tuple[type, str, Any]]:
    """(family, name, recipe) of every test recipe."""
    from worldgraph.engines.wfm import train as wfm

    return [
        (wfm.WorldModel, "tiny-wfm", wfm.Recipe("tiny-wfm", steps=4, batch=4, warmup=1, checkpoint_seconds=0.0)),
    ]


def register() -> None:
    from worldgraph.engines.training import register_recipe

    for family, name, recipe in tiny():
        register_recipe(family, name, recipe)


def unregister() -> None:
    from worldgraph.engines.training import unregister_recipe

    for family, name, _ in tiny():
        unregister_recipe(family, name)


@pytest.fixture(scope="session", autouse=True)
def tiny_recipes() -> Iterator[None]:
    """The tiny recipes, registered for the session (conftest.py of the folders that train)."""
    register()
    yield
    unregister()
