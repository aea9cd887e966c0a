"""One clip from a scene file: load, simulate, render, caption."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .captions import caption
from .render import STYLES, ClipRender, render_clip
from .scene import SceneError, SceneModel, load_scene
from .simulate import CameraMotion, Trajectory, build_model, simulate


@dataclass(frozen=True)
class ClipSettings:
    frames: int = 17
    fps: float = 16.0
    substeps: int = 8
    width: int = 64
    height: int = 64
    styles: tuple[str, ...] = STYLES
    shutter: int = 2  # substeps averaged into a real frame: motion blur
    noise: float = 2.0  # sensor noise, 8-bit levels
    camera: str = ""  # camera prim path; "" = the scene's first camera, or a default view
    camera_motion: str = "scene"  # scene (as the camera prim says) | static | orbit | dolly | pan
    camera_amount: float = 0.0

    def __post_init__(self) -> None:
        if self.frames < 1 or self.fps <= 0 or self.substeps < 1:
            raise ValueError("frames, fps and substeps must be positive")
        if not (8 <= self.width <= 1024 and 8 <= self.height <= 1024):
            raise ValueError(f"render size {self.width}x{self.height} must be within 8..1024")


@dataclass
class Clip:
    scene: SceneModel
    model: Any  # the compiled mujoco.MjModel
    trajectory: Trajectory
    render: ClipRender
    caption: str
    camera_motion: CameraMotion
    camera_path: str | None  # the scene camera rendered from; None for the default view


def make_clip(scene_file: Path, settings: ClipSettings, seed: int, progress: Any = None, jitter: float = 0.0) -> Clip:
    """Simulate and render ``scene_file``; ``jitter`` (metres) moves every dynamic body's
    start a random amount that small: a second take of the same experiment."""
    scene = load_scene(scene_file)
    if jitter:
        jitter_rng = np.random.default_rng([seed, 1])
        for body in scene.bodies:
            if not body.kinematic:
                spec_body = scene.spec.body(body.path)
                spec_body.pos = np.asarray(spec_body.pos) + jitter_rng.normal(0.0, jitter, 3)
    camera = None
    if settings.camera:
        camera = next((c for c in scene.cameras if c.path == settings.camera), None)
        if camera is None:
            known = ", ".join(c.path for c in scene.cameras) or "none"
            raise SceneError(f"{scene_file}: no camera {settings.camera} (cameras: {known})")
    elif scene.cameras:
        camera = scene.cameras[0]
    if settings.camera_motion == "scene":
        motion = CameraMotion(camera.motion, camera.motion_amount) if camera else CameraMotion()
    else:
        motion = CameraMotion(settings.camera_motion, settings.camera_amount)
    model = build_model(scene, camera)
    trajectory = simulate(scene, model, settings.frames, settings.fps, settings.substeps, motion=motion)
    rendered = render_clip(
        model, trajectory, settings.width, settings.height,
        styles=settings.styles, shutter=settings.shutter, noise=settings.noise,
        rng=np.random.default_rng(seed), progress=progress,
    )
    ids = {model.body(i).name: i for i in range(model.nbody)}
    text = caption(
        scene.bodies,
        {b.path: trajectory.body_pos[:, ids[b.path]] for b in scene.bodies},
        {b.path: trajectory.body_quat[:, ids[b.path]] for b in scene.bodies},
        trajectory.hits,
        motion.kind,
        motion.amount,
        settings.fps,
    )
    return Clip(scene, model, trajectory, rendered, text, motion, camera.path if camera else None)
