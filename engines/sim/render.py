"""Offscreen rendering of a trajectory: RGB in two styles, depth in metres, instance
segmentation mapped to prim paths, and the camera's intrinsics and per-frame extrinsics.

- ``plain``: flat colours, no textures, shadows or reflections (what controls look like).
- ``real``: textures, shadows, reflections, motion blur over the shutter and sensor noise.
The Transfer model later learns plain-looking controls -> real-looking video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .gl import OffscreenRenderer
from .simulate import RENDER_CAMERA, Trajectory

STYLES = ("plain", "real")


@dataclass
class ClipRender:
    fps: float
    rgb: dict[str, np.ndarray]  # style -> uint8 [T, H, W, 3]
    depth: np.ndarray  # float32 [T, H, W], metres along the view axis; 0 where nothing is hit
    segmentation: np.ndarray  # uint16 [T, H, W]; 0 is background
    segment_paths: dict[int, str]  # instance id -> prim path
    intrinsics: np.ndarray  # [3, 3] pinhole, pixels
    extrinsics: np.ndarray  # [T, 4, 4] world-from-camera; camera looks down -Z, +Y up (OpenGL/USD)


def render_clip(
    model: Any,
    trajectory: Trajectory,
    width: int,
    height: int,
    *,
    styles: tuple[str, ...] = STYLES,
    shutter: int = 2,
    noise: float = 2.0,
    rng: np.random.Generator | None = None,
    progress: Any = None,
) -> ClipRender:
    """Render every frame of ``trajectory`` (from ``simulate``) from the render camera.

    ``shutter`` substeps are averaged into each real frame (motion blur); ``noise`` is the
    sensor noise's standard deviation in 8-bit levels.
    """
    import mujoco

    unknown = set(styles) - set(STYLES)
    if unknown:
        raise ValueError(f"unknown render styles {sorted(unknown)}; use {', '.join(STYLES)}")
    rng = rng or np.random.default_rng(0)
    camera = model.camera(RENDER_CAMERA).id
    frames = trajectory.frames
    data = mujoco.MjData(model)
    rgb = {style: np.zeros((frames, height, width, 3), np.uint8) for style in styles}
    depth = np.zeros((frames, height, width), np.float32)
    seg = np.zeros((frames, height, width), np.uint16)
    extrinsics = np.zeros((frames, 4, 4))
    segment_paths, lookup = _segment_ids(model)
    shutter = max(1, min(shutter, trajectory.qpos.shape[1]))
    materials = model.geom_matid.copy()
    # shadow maps cost more than the frame at our sizes: as fine as the frame needs
    model.vis.quality.shadowsize = 512 if max(width, height) <= 128 else 2048

    with OffscreenRenderer(model, width, height, camera) as renderer:
        for t in range(frames):
            if "real" in rgb:
                accum = np.zeros((height, width, 3), np.float32)
                for s in range(shutter):
                    _pose(model, data, trajectory, t, s)
                    accum += renderer.color(data)
                rgb["real"][t] = _sensor(accum / shutter, noise, rng)
            _pose(model, data, trajectory, t, 0)
            model.geom_matid[:] = -1  # flat colours for the plain style
            if "plain" in rgb:
                rgb["plain"][t] = renderer.color(data, effects=False)
            geoms, z = renderer.geoms_and_depth(data)
            model.geom_matid[:] = materials
            seg[t] = np.where(geoms >= 0, lookup[np.clip(geoms, 0, None)], 0)
            depth[t] = np.where(seg[t] > 0, z, 0.0)
            extrinsics[t] = _world_from_camera(data, camera)
            if progress:
                progress(t + 1, frames)

    fovy = math.radians(model.cam_fovy[camera])
    f = height / 2 / math.tan(fovy / 2)
    intrinsics = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
    return ClipRender(trajectory.fps, rgb, depth, seg, segment_paths, intrinsics, extrinsics)


def _pose(model: Any, data: Any, trajectory: Trajectory, t: int, s: int) -> None:
    """Put the model in the recorded state of frame t, substep s (kinematics only)."""
    import mujoco

    data.qpos[:] = trajectory.qpos[t, s]
    data.mocap_pos[:] = trajectory.mocap_pos[t, s]
    data.mocap_quat[:] = trajectory.mocap_quat[t, s]
    mujoco.mj_kinematics(model, data)
    mujoco.mj_camlight(model, data)


def _world_from_camera(data: Any, camera: int) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = data.cam_xmat[camera].reshape(3, 3)  # columns: camera x, y, z in world
    pose[:3, 3] = data.cam_xpos[camera]
    return pose


def _segment_ids(model: Any) -> tuple[dict[int, str], np.ndarray]:
    """Instance ids: one per body (all its geoms), and one per static geom of the world.
    Returns id -> prim path and a geom id -> instance id lookup."""
    names: list[str] = []
    lookup = np.zeros(model.ngeom + 1, np.uint16)
    for g in range(model.ngeom):
        body = int(model.geom_bodyid[g])
        name = model.body(body).name if body else model.geom(g).name
        if not name:
            continue
        if name not in names:
            names.append(name)
        lookup[g] = names.index(name) + 1
    return {i + 1: n for i, n in enumerate(names)}, lookup


def _sensor(image: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    if noise > 0:
        image = image + rng.normal(0.0, noise, image.shape)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)
