"""The action space of the action-conditioned world model.

The scene family's pusher is driven by a velocity per frame (m/s, world axes; the clip's
``actions.npy``). The model sees them in the camera's ground frame instead: right and
forward are the camera's own axes laid flat on the floor, up is world up. A push "to the
right" then looks the same in every clip whatever the camera's heading, which a small
model learns far more easily than world axes it would have to read off the floor.

One latent frame of the 4x tokenizers covers 4 video frames, and the actions of frames
4k-4..4k-1 move the scene from frame 4k-4 to 4k: latent frame k (k >= 1) is made under
one chunk of 4 actions, flattened to 12 numbers.
"""

from __future__ import annotations

import numpy as np

AXES = ("right", "forward", "up")  # the camera's ground frame, m/s
CHUNK = 4  # video frames per latent frame
CHUNK_DIM = CHUNK * len(AXES)


class ActionInputError(ValueError):
    """Actions the model cannot take; the message says what to change."""


def ground_axes(world_from_camera: np.ndarray) -> np.ndarray:
    """[3, 3] rows: the camera's right, forward and up on the ground, in world axes."""
    rot = np.asarray(world_from_camera, float)[:3, :3]
    right = np.array([rot[0, 0], rot[1, 0], 0.0])
    forward = -np.array([rot[0, 2], rot[1, 2], 0.0])  # the camera looks down its -Z
    if np.linalg.norm(right) < 1e-6 or np.linalg.norm(forward) < 1e-6:
        raise ActionInputError("the camera looks straight down or up: its ground frame is undefined")
    right /= np.linalg.norm(right)
    forward = np.cross([0.0, 0.0, 1.0], right)  # exactly perpendicular, in front of the camera
    return np.stack([right, forward, [0.0, 0.0, 1.0]])


def to_view(world: np.ndarray, world_from_camera: np.ndarray) -> np.ndarray:
    """World-axis velocities [T, 3] -> the camera's ground frame [T, 3]."""
    return np.asarray(world, float) @ ground_axes(world_from_camera).T


def to_world(view: np.ndarray, world_from_camera: np.ndarray) -> np.ndarray:
    """The camera's ground frame [T, 3] -> world-axis velocities [T, 3]."""
    return np.asarray(view, float) @ ground_axes(world_from_camera)


def chunked(view: np.ndarray) -> np.ndarray:
    """Per-frame actions [4n, 3] -> one row per latent frame made [n, 12]."""
    view = np.asarray(view, np.float32)
    if view.ndim != 2 or view.shape[1] != len(AXES):
        raise ActionInputError(f"actions must be [frames, {len(AXES)}] ({', '.join(AXES)} in m/s), "
                               f"got {list(view.shape)}")
    if len(view) % CHUNK:
        raise ActionInputError(f"{len(view)} actions: give {CHUNK} per latent frame (a multiple of {CHUNK})")
    if not np.isfinite(view).all():
        raise ActionInputError("actions contain NaN or infinity")
    return view.reshape(-1, CHUNK_DIM)
