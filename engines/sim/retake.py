"""A second take of a recorded clip, from the clip's own files.

Every clip folder holds ``scene.usda``: the simulated stage, flattened, with a time-sampled
transform per body and for the camera. Its first time sample is where everything started,
so the stage put back at that sample, with ``metadata.json``'s settings (size, frames,
substeps, camera and its motion, seed), simulates the clip again, whatever made the scene
(the randomizer with any settings, a hand-authored ``LoadScene`` file, a pusher with its
scripted velocities). ``jitter`` moves every dynamic body's start by a few millimetres: a
second take of the same experiment, the stand-in for Physics-IQ's second real recording.

A retake that cannot be made raises ``RetakeError`` saying why (no scene.usda, a file that
changed since the dataset was written, a stage MuJoCo cannot load, a nudged body that
makes the simulation blow up), so an evaluation can leave that clip out and say so.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..media.files import sha256
from .export import EXPORTED_CAMERA
from .pipeline import Clip, ClipSettings, make_clip
from .scene import SceneError
from .simulate import SimulationDiverged

SCENE_FILE = "scene.usda"


class RetakeError(Exception):
    """No retake of a clip can be made; the message says why."""


def start_stage(animated: Path, out: Path) -> Path:
    """Write ``animated`` (an exported clip's stage) to ``out`` as it was at its first time
    sample: every time-sampled attribute set to that sample and its samples removed."""
    from pxr import Tf, Usd

    try:
        stage = Usd.Stage.Open(str(animated))
    except Tf.ErrorException as e:  # "Error in '...' at line ... : 'Failed to open layer @path@'"
        why = re.sub(r"\s*@[^@]*@", "", str(e).strip().splitlines()[-1].rsplit(" : ", 1)[-1].strip(" '"))
        raise RetakeError(f"{animated}: cannot read as USD ({why or 'not a USD layer'})") from None
    if stage is None:
        raise RetakeError(f"{animated}: cannot read as USD")
    for prim in stage.Traverse():
        for attr in prim.GetAttributes():
            samples = attr.GetTimeSamples()
            if samples:
                first = attr.Get(samples[0])
                attr.Clear()
                attr.Set(first)
    stage.GetRootLayer().Export(str(out))
    return out


def clip_settings(meta: dict[str, Any]) -> ClipSettings:
    """The settings a clip was made with, camera and camera motion as resolved then (the
    exported camera for the default view)."""
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["settings"].items()}
    settings = ClipSettings(**values)
    camera = meta.get("camera", "default")
    motion = meta.get("camera_motion") or {}
    return replace(settings, camera=EXPORTED_CAMERA if camera == "default" else camera,
                   camera_motion=str(motion.get("kind", settings.camera_motion)),
                   camera_amount=float(motion.get("amount", settings.camera_amount)))


def retake(clip: Path, jitter: float, record: dict[str, Any] | None = None,
           styles: tuple[str, ...] = ("real",)) -> Clip:
    """Clip folder ``clip`` simulated again from its ``scene.usda`` with every dynamic body's
    start moved ~``jitter`` metres, rendered in ``styles``. ``record`` (its manifest line)
    lets the scene file be checked against the checksum written with the dataset."""
    scene = clip / SCENE_FILE
    if not scene.is_file():
        raise RetakeError(f"{scene}: missing (datasets keep each clip's simulated scene there)")
    expected = ((record or {}).get("files") or {}).get(SCENE_FILE, {}).get("sha256")
    if expected and sha256(scene) != expected:
        raise RetakeError(f"{scene}: changed or corrupt since the dataset was written (its sha256 differs "
                          f"from the manifest's)")
    try:
        meta = json.loads((clip / "metadata.json").read_text(encoding="utf-8"))
        settings = replace(clip_settings(meta), styles=styles)
        seed, bodies = int(meta["seed"]), [b["path"] for b in meta["bodies"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RetakeError(f"{clip / 'metadata.json'}: cannot read the clip's settings ({type(e).__name__}: "
                          f"{e})") from None
    with tempfile.TemporaryDirectory(prefix="worldgraph-retake-") as work:
        start = start_stage(scene, Path(work) / "start.usda")
        try:
            made = make_clip(start, settings, seed, jitter=jitter)
        except SimulationDiverged as e:
            raise RetakeError(f"{scene}: the retake diverged with bodies moved ~{jitter * 1000:g} mm "
                              f"({str(e).replace(str(start), 'the scene')})") from None
        except SceneError as e:
            raise RetakeError(str(e).replace(str(start), str(scene))) from None
    if [b.path for b in made.scene.bodies] != bodies:
        raise RetakeError(f"{scene}: its bodies are not the ones metadata.json lists")
    return made
