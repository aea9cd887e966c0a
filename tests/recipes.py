"""The tiny recipes the tests train (a few steps of tiny presets): registered beside the
shipped recipes for the test session (``conftest.py`` in the test folders that train),
never shipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def tiny() -> list[tuple[type, str, Any]]:
    """(family, name, recipe) of every test recipe."""
    from worldgraph.engines.ar import train as ar
    from worldgraph.engines.estimate import train as estimate
    from worldgraph.engines.post import action_train as action
    from worldgraph.engines.post import camera_train as camera
    from worldgraph.engines.tokenizer import train as tokenizer
    from worldgraph.engines.transfer import joint
    from worldgraph.engines.transfer import train as transfer
    from worldgraph.engines.wfm import train as wfm

    small_tokenizer = {"steps": 6, "image_batch": 2, "video_batch": 1, "video_every": 2, "frames": 5,
                       "checkpoint_seconds": 0.0}
    return [
        (tokenizer.TokenizerTrainer, "tiny-cv", tokenizer.Recipe("tiny-cv", **small_tokenizer)),
        (tokenizer.TokenizerTrainer, "tiny-dv", tokenizer.Recipe("tiny-dv", **small_tokenizer)),
        (wfm.WorldModel, "tiny-wfm", wfm.Recipe("tiny-wfm", steps=4, batch=4, warmup=1, checkpoint_seconds=0.0)),
        (ar.AutoRegressive, "tiny-ar", ar.Recipe("tiny-ar", steps=4, batch=4, warmup=1, checkpoint_seconds=0.0)),
        *[(estimate.EstimatorTrainer, f"tiny-estimate-{task}",
           estimate.Recipe(task, steps=3, batch=4, warmup=1, widths=(8, 8, 8), checkpoint_seconds=0.0))
          for task in ("depth", "seg")],
        (action.ActionModel, "tiny-action", action.Recipe(steps=3, batch=4, warmup=1, checkpoint_seconds=0.0,
                                                          name="tiny-action", preset="tiny-wfm")),
        (action.ActionModel, "tiny-action-change",
         action.Recipe(steps=3, batch=4, warmup=1, checkpoint_seconds=0.0, motion_weight=4.0, predict_change=True,
                       name="tiny-action-change", preset="tiny-wfm")),
        (action.ActionModel, "tiny-action-pusher",
         action.Recipe(steps=2, batch=4, warmup=1, checkpoint_seconds=0.0, pusher_map=True, name="tiny-action-pusher",
                       preset="tiny-wfm")),
        (camera.CameraModel, "tiny-camera", camera.Recipe("tiny-camera", steps=4, batch=4, warmup=1, text_drop=0.3,
                                                          given_frames=(0.0, 0.75, 0.25), checkpoint_seconds=0.0,
                                                          preset="tiny-wfm")),
        (transfer.BranchTrainer, "tiny-controlnet",
         transfer.Recipe("wfm-cv4x8x8", steps=4, batch=2, warmup=1, blocks=1, checkpoint_seconds=0.0)),
        (joint.JointTrainer, "tiny-controlnet-joint",
         joint.Recipe("wfm-cv4x8x8", steps=4, batch=2, warmup=1, checkpoint_seconds=0.0)),
        (joint.JointTrainer, "tiny-controlnet-joint-fresh",
         joint.Recipe("wfm-cv4x8x8", steps=4, batch=2, warmup=1, blocks=1, checkpoint_seconds=0.0, fresh=True)),
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
