"""Where the pusher is, drawn on the latent grid: the action model's spatial condition.

A velocity vector says how the pusher moves but not where that shows up in the picture; a
small network learns that mapping slowly. The robot knows its own pose (proprioception),
so the actions also give where the pusher will be: its box, moved by the integrated
velocities, projected through the camera and rasterized, then averaged over each latent
frame's video frames (frame 0 alone, then 4 at a time) onto the 8x8-pixel latent grid.
The model sees this map as an extra input channel on every latent frame, like the camera
model's rays; with the actions zeroed, the map shows the pusher standing still.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .actions import CHUNK

CELL = 8  # pixels per latent pixel of the 8x8 tokenizers


def box_corners(scene_file: Path, prim: str = "/World/pusher", frame: int = 0) -> np.ndarray:
    """The 8 world corners [8, 3] of the cube prim ``prim`` at ``frame`` of a scene's USD."""
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(scene_file))
    cube = UsdGeom.Cube(stage.GetPrimAtPath(prim))
    if not cube:
        raise ValueError(f"{scene_file}: no cube prim {prim}")
    half = cube.GetSizeAttr().Get() / 2
    local = np.array([[x, y, z] for x in (-half, half) for y in (-half, half) for z in (-half, half)])
    m = np.array(cube.ComputeLocalToWorldTransform(Usd.TimeCode(frame)))  # row vectors: p @ m
    return local @ m[:3, :3] + m[3, :3]


def body_corners(model: Any, trajectory: Any, body: str) -> np.ndarray:
    """The world corners [T, 8, 3] of kinematic body ``body``'s box geom at each frame of a
    simulated ``trajectory`` (engines.sim.simulate) of the compiled MuJoCo ``model``."""
    import mujoco

    b = model.body(body)
    geom = int(b.geomadr[0])
    if int(b.geomnum[0]) != 1 or model.geom_type[geom] != mujoco.mjtGeom.mjGEOM_BOX:
        raise ValueError(f"{body}: the pusher map needs a body made of one box")
    hx, hy, hz = model.geom_size[geom]
    local = np.array([[x, y, z] for x in (-hx, hx) for y in (-hy, hy) for z in (-hz, hz)])
    local = local @ _rotation(model.geom_quat[geom]).T + model.geom_pos[geom]
    out = np.empty((trajectory.frames, 8, 3))
    for t in range(trajectory.frames):
        out[t] = local @ _rotation(trajectory.body_quat[t, b.id]).T + trajectory.body_pos[t, b.id]
    return out


def _rotation(quat: np.ndarray) -> np.ndarray:
    import mujoco

    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat, float))
    return mat.reshape(3, 3)


def offsets(velocities: np.ndarray, fps: float) -> np.ndarray:
    """Where the pusher is at each frame relative to the first [T + 1, 3], from the world
    velocities [T, 3] driven through the frames (as the simulator steps them)."""
    return np.concatenate([np.zeros((1, 3)), np.cumsum(np.asarray(velocities, float) / fps, axis=0)])


def occupancy(corners: np.ndarray, moves: np.ndarray, intrinsics: np.ndarray, world_from_camera: np.ndarray,
              size: tuple[int, int]) -> np.ndarray:
    """The share of each pixel the box covers [T, H, W] (0 or 1; occlusion ignored), for
    the box ``corners`` [8, 3] moved by each row of ``moves`` [T, 3]; ``world_from_camera``
    [4, 4] or one per frame [T, 4, 4]."""
    height, width = size
    poses = np.broadcast_to(world_from_camera, (len(moves), 4, 4))
    f, cx, cy = intrinsics[0, 0], intrinsics[0, 2], intrinsics[1, 2]
    out = np.zeros((len(moves), height, width), np.float32)
    for t, (move, pose) in enumerate(zip(moves, poses, strict=True)):
        cam = (np.c_[corners + move, np.ones(8)] @ np.linalg.inv(pose).T)[:, :3]
        if (cam[:, 2] >= -1e-3).any():  # behind or at the camera: not drawn
            continue
        pixels = np.c_[cx + f * cam[:, 0] / -cam[:, 2], cy - f * cam[:, 1] / -cam[:, 2]]
        image = Image.new("L", (width, height))
        ImageDraw.Draw(image).polygon([tuple(p) for p in _hull(pixels)], fill=255)
        out[t] = np.asarray(image, np.float32) / 255
    return out


def pusher_maps(corners: np.ndarray, moves: np.ndarray, intrinsics: np.ndarray, world_from_camera: np.ndarray,
                size: tuple[int, int]) -> np.ndarray:
    """``occupancy`` on the latent grid: [1 + n, H/8, W/8] for 1 + 4n frames of ``moves``."""
    return latent_maps(occupancy(corners, moves, intrinsics, world_from_camera, size))


def maps_ahead(corners: np.ndarray, past: np.ndarray, velocities: np.ndarray, fps: float, intrinsics: np.ndarray,
               world_from_camera: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``pusher_maps`` of a box (``corners`` now) over its latest frames (``past`` [Tp, 3]:
    where it was, relative to now, the last row zero) and then moved on by the world
    ``velocities`` [4n, 3]: what the node and the planner draw for a rollout."""
    moves = np.concatenate([past, offsets(velocities, fps)[1:]])
    return pusher_maps(corners, moves, intrinsics, world_from_camera, size)


def latent_maps(pixels: np.ndarray) -> np.ndarray:
    """Per-frame occupancy [1 + 4n, H, W] -> per latent frame [1 + n, H/8, W/8]: frame 0
    alone, then each group of 4 frames averaged, each 8x8 block averaged."""
    t, height, width = pixels.shape
    if (t - 1) % CHUNK or height % CELL or width % CELL:
        raise ValueError(f"occupancy of {t} frames of {height}x{width}: need 1 + 4k frames, sizes divisible by 8")
    blocks = pixels.reshape(t, height // CELL, CELL, width // CELL, CELL).mean(axis=(2, 4))
    later = blocks[1:].reshape(-1, CHUNK, *blocks.shape[1:]).mean(axis=1)
    return np.concatenate([blocks[:1], later]).astype(np.float32)


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull of 2D points, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(map(tuple, points))

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])
