"""Camera paths for the camera-conditioned world model, and the Plücker rays it sees.

Poses are world-from-camera 4x4 matrices, the camera looking down -Z with +Y up (USD /
OpenGL, as our clips' camera.json). The model sees every pose relative to the first
frame's camera, so where the scene sits in the world does not matter, only how the camera
moves from where the given frame was shot.

Rays: per latent frame and latent pixel, the 6-D Plücker coordinates (d, o × d) of the ray
through the centre of that latent pixel's block of video pixels, in the first camera's
frame. Latent frame 0 is video frame 0; latent frame k ≥ 1 covers video frames 4k-3..4k
and takes the pose of frame 4k (the causal tokenizer's last frame of the group).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..tokenizer.api import TEMPORAL
from ..wfm.api import WFMInputError

RAY_CHANNELS = 6
SPATIAL = 8  # video pixels per latent pixel (the cv4x8x8 tokenizer)
# the simulator's camera (camera.json of every clip): 64x64, fx = fy = 75.34 (46.0° field of view)
DEFAULT_FOCAL = 75.339419


class CameraInputError(WFMInputError):
    """A camera path the model cannot follow; the message names what is wrong."""


def default_intrinsics(width: int = 64, height: int = 64) -> np.ndarray:
    """Pinhole [3, 3] of the simulator's camera, scaled to ``width`` (principal point centred)."""
    f = DEFAULT_FOCAL * width / 64
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], dtype=np.float64)


def check_poses(poses: np.ndarray, what: str = "camera path") -> np.ndarray:
    """``poses`` as float64 [T, 4, 4] rigid transforms, or a CameraInputError naming ``what``."""
    p = np.asarray(poses, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (4, 4) or not len(p):
        raise CameraInputError(f"{what}: poses must be [T, 4, 4] world-from-camera matrices, got {list(p.shape)}")
    if not np.isfinite(p).all():
        bad = int(np.flatnonzero(~np.isfinite(p).reshape(len(p), -1).all(1))[0])
        raise CameraInputError(f"{what}: pose {bad} has non-finite values")
    rot = p[:, :3, :3]
    err = np.abs(rot @ rot.transpose(0, 2, 1) - np.eye(3)).max(axis=(1, 2))
    if (err > 1e-3).any() or not np.allclose(p[:, 3], [0, 0, 0, 1], atol=1e-6):
        bad = int(np.flatnonzero((err > 1e-3) | ~np.isclose(p[:, 3], [0, 0, 0, 1], atol=1e-6).all(1))[0])
        raise CameraInputError(f"{what}: pose {bad} is not a rigid transform (a rotation and a translation; "
                               "no scale or shear)")
    return p


def check_intrinsics(intrinsics: np.ndarray, what: str = "camera") -> np.ndarray:
    k = np.asarray(intrinsics, dtype=np.float64)
    if k.shape != (3, 3) or not np.isfinite(k).all() or k[0, 0] <= 0 or k[1, 1] <= 0:
        raise CameraInputError(f"{what}: intrinsics must be a finite [3, 3] pinhole matrix with positive focal "
                               f"lengths, got {k.tolist() if k.size <= 9 else list(k.shape)}")
    return k


def relative(poses: np.ndarray) -> np.ndarray:
    """[T, 4, 4] world-from-camera -> first-camera-from-camera (the first becomes identity)."""
    return np.linalg.inv(poses[0])[None] @ poses


def latent_frames(frames: int) -> int:
    if frames < 1 or (frames - 1) % TEMPORAL:
        raise CameraInputError(f"{frames} frames: camera paths cover 1 + 4k frames (5, 9, 13, 17, ...)")
    return 1 + (frames - 1) // TEMPORAL


def latent_pose_index(frames: int) -> list[int]:
    """The video frame whose pose each latent frame takes: 0, 4, 8, ..."""
    return [TEMPORAL * k for k in range(latent_frames(frames))]


def plucker(poses: np.ndarray, intrinsics: np.ndarray, size: tuple[int, int] = (64, 64),
            frames: int | None = None) -> np.ndarray:
    """Rays float32 [6, T', h, w] of a camera path: ``poses`` [T, 4, 4] world-from-camera for
    every video frame (T = 1 + 4k, or ``frames`` when given, which must equal T), ``intrinsics``
    [3, 3] of video frames of ``size`` (height, width)."""
    p = check_poses(poses)
    k = check_intrinsics(intrinsics)
    if frames is not None and len(p) != frames:
        raise CameraInputError(f"the camera path has {len(p)} poses for {frames} frames: give one pose per frame")
    height, width = size
    if height % SPATIAL or width % SPATIAL:
        raise CameraInputError(f"frames of {width}x{height}: sides must be multiples of {SPATIAL}")
    rel = relative(p)[latent_pose_index(len(p))]  # [T', 4, 4]
    h, w = height // SPATIAL, width // SPATIAL
    # ray through the centre of each latent pixel's block (pixel i spans [i, i+1))
    u = (np.arange(w) + 0.5) * SPATIAL
    v = (np.arange(h) + 0.5) * SPATIAL
    uu, vv = np.meshgrid(u, v)  # [h, w]
    # image v runs down, camera +Y up; the camera looks down -Z
    dirs = np.stack([(uu - k[0, 2]) / k[0, 0], -(vv - k[1, 2]) / k[1, 1], -np.ones_like(uu)], -1)  # [h, w, 3]
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    d = np.einsum("tij,hwj->thwi", rel[:, :3, :3], dirs)  # [T', h, w, 3] in the first camera's frame
    o = np.broadcast_to(rel[:, None, None, :3, 3], d.shape)
    rays = np.concatenate([d, np.cross(o, d)], -1)  # [T', h, w, 6]
    return np.ascontiguousarray(rays.transpose(3, 0, 1, 2)).astype(np.float32)  # [6, T', h, w]


def check_rays(rays: np.ndarray | object, latent: tuple[int, int, int], what: str = "rays") -> None:
    """A CameraInputError unless ``rays`` is [B, 6, T', h, w] for a latent grid (T', h, w)."""
    shape = tuple(getattr(rays, "shape", ()))
    if len(shape) != 5 or shape[1] != RAY_CHANNELS or shape[2:] != latent:
        raise CameraInputError(f"{what}: expected [B, {RAY_CHANNELS}, {', '.join(map(str, latent))}] Plücker rays "
                               f"(6 per latent pixel and frame), got {list(shape)}")


# ------------------------------------------------------------------------------ paths


def _rotation(axis: np.ndarray, degrees: float) -> np.ndarray:
    """Rodrigues: rotation [3, 3] by ``degrees`` about the unit ``axis`` (right-handed)."""
    a = np.radians(degrees)
    x, y, z = axis / np.linalg.norm(axis)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


def _per_step(name: str, value: float | Sequence[float], steps: int) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(steps, float(v))
    if v.shape != (steps,):
        raise CameraInputError(f"joystick {name}: {v.size} values for {steps} steps (frames - 1); give one a "
                               "step or a single value for every step")
    if not np.isfinite(v).all():
        raise CameraInputError(f"joystick {name}: step {int(np.flatnonzero(~np.isfinite(v))[0])} is not finite")
    return v


def joystick(frames: int, forward: float | Sequence[float] = 0.0, strafe: float | Sequence[float] = 0.0,
             yaw: float | Sequence[float] = 0.0, pitch: float | Sequence[float] = 0.0,
             up: Sequence[float] = (0.0, 1.0, 0.0)) -> np.ndarray:
    """Poses [frames, 4, 4] relative to the first camera from per-step (per-frame) joystick
    moves: ``forward`` metres along the view direction (negative: back), ``strafe`` metres to
    the right, ``yaw`` degrees to the left about ``up`` (the first camera's frame; default its
    +Y), ``pitch`` degrees up about the camera's own right axis. Each a value per step
    (frames - 1 of them) or one value for every step."""
    if frames < 1:
        raise CameraInputError(f"a joystick path needs frames >= 1, got {frames}")
    steps = frames - 1
    moves = {n: _per_step(n, v, steps) for n, v in
             (("forward", forward), ("strafe", strafe), ("yaw", yaw), ("pitch", pitch))}
    up_axis = np.asarray(up, dtype=np.float64)
    if up_axis.shape != (3,) or not np.isfinite(up_axis).all() or np.linalg.norm(up_axis) < 1e-9:
        raise CameraInputError(f"joystick up: a finite, non-zero 3-vector, got {list(np.ravel(up_axis))}")
    poses = np.tile(np.eye(4), (frames, 1, 1))
    heading, tilt, position = 0.0, 0.0, np.zeros(3)
    for i in range(steps):
        # a first-person camera: turn first, then move along where it now looks
        heading += moves["yaw"][i]
        tilt += moves["pitch"][i]
        yawed = _rotation(up_axis, heading)
        rot = yawed @ _rotation(np.array([1.0, 0, 0]), tilt)
        position = position + rot @ np.array([moves["strafe"][i], 0.0, -moves["forward"][i]])
        poses[i + 1, :3, :3], poses[i + 1, :3, 3] = rot, position
    return poses


def usd_camera_path(usd_path: str | Path, prim_path: str, frames: int,
                    start: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """World-from-camera poses [frames, 4, 4] of an (animated) camera prim at consecutive time
    codes from ``start`` (default: the stage's start time code), and its intrinsics [3, 3] at
    64x64 when it is a UsdGeom.Camera (else None)."""
    from pxr import Usd, UsdGeom

    path = Path(usd_path)
    if not path.is_file():
        raise CameraInputError(f"{path}: no such USD file")
    stage = Usd.Stage.Open(str(path))
    if stage is None:
        raise CameraInputError(f"{path}: cannot open as a USD stage")
    if not prim_path.startswith("/"):
        raise CameraInputError(f"camera prim {prim_path!r}: give an absolute prim path like /World/camera")
    prim = stage.GetPrimAtPath(prim_path)
    if not prim or not prim.IsValid():
        cameras = [str(p.GetPath()) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)]
        raise CameraInputError(f"{path}: no prim {prim_path}; cameras in the file: {', '.join(cameras) or 'none'}")
    if not prim.IsA(UsdGeom.Xformable):
        raise CameraInputError(f"{path}: {prim_path} is a {prim.GetTypeName() or 'typeless prim'}, not a camera "
                               "or other transformable prim")
    t0 = stage.GetStartTimeCode() if start is None else start
    xf = UsdGeom.Xformable(prim)
    # USD matrices are row-vector (translation in the last row): transpose to column-vector
    poses = np.stack([np.array(xf.ComputeLocalToWorldTransform(Usd.TimeCode(t0 + i))).T for i in range(frames)])
    poses = _orthonormal(poses)
    intrinsics = None
    if prim.IsA(UsdGeom.Camera):
        cam = UsdGeom.Camera(prim).GetCamera(Usd.TimeCode(t0))
        if cam.horizontalAperture > 0 and cam.focalLength > 0:
            f = cam.focalLength / cam.horizontalAperture * 64
            intrinsics = np.array([[f, 0, 32], [0, f, 32], [0, 0, 1]], dtype=np.float64)
    check_poses(poses, f"{path}:{prim_path}")
    return poses, intrinsics


def _orthonormal(poses: np.ndarray) -> np.ndarray:
    """Rotations re-orthonormalized (USD files store float matrices; rounding leaves ~1e-7 drift)."""
    out = poses.copy()
    if not np.isfinite(poses).all():
        return out  # check_poses says what is wrong
    u, s, vt = np.linalg.svd(poses[:, :3, :3])
    if (np.abs(s - 1) > 1e-4).any() or (np.linalg.det(u @ vt) <= 0).any():
        return out  # scaled or mirrored: not a camera path; check_poses says so
    out[:, :3, :3] = u @ vt
    return out
