"""Where the pushed object is in a frame: the pixels of its colour, their centroid, and that
pixel's ray met with the plane at the object's centre height. What the planner scores
predicted frames with; it needs no model of its own, only the object's colour (measured
once, on the first real frame) and the camera, which the task knows."""

from __future__ import annotations

import numpy as np

COLOUR_TOLERANCE = 0.16  # RGB distance (0..1 per channel) that still counts as the object's colour
MIN_PIXELS = 4


def reference_colour(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean colour [3] in 0..1 of ``frame`` (uint8 [H, W, 3]) under ``mask`` [H, W]."""
    if not mask.any():
        raise ValueError("the object is not visible in the first frame: no colour to track")
    return frame[mask].astype(np.float32).mean(0) / 255


def object_pixels(frames: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Which pixels of uint8 frames [..., H, W, 3] have the object's colour: bool [..., H, W]."""
    return np.linalg.norm(frames.astype(np.float32) / 255 - colour, axis=-1) < COLOUR_TOLERANCE


def floor_point(pixel: np.ndarray, intrinsics: np.ndarray, world_from_camera: np.ndarray, height: float) -> np.ndarray:
    """Where the ray through ``pixel`` (column, row: pixel centres at +0.5) meets z = ``height``:
    world (x, y). The camera looks down its -Z with +Y up, image rows go down."""
    f, cx, cy = intrinsics[0, 0], intrinsics[0, 2], intrinsics[1, 2]
    ray = np.array([(pixel[0] + 0.5 - cx) / f, -(pixel[1] + 0.5 - cy) / f, -1.0])
    direction = world_from_camera[:3, :3] @ ray
    origin = world_from_camera[:3, 3]
    if abs(direction[2]) < 1e-6:
        return origin[:2] + direction[:2] * 1e3  # parallel to the floor: far away
    t = (height - origin[2]) / direction[2]
    return origin[:2] + t * direction[:2]


def locate(frames: np.ndarray, colour: np.ndarray, intrinsics: np.ndarray, world_from_camera: np.ndarray,
           height: float) -> tuple[np.ndarray, np.ndarray]:
    """For uint8 frames [N, H, W, 3]: the object's floor position [N, 2] and whether it was
    seen [N] (enough pixels of its colour)."""
    masks = object_pixels(frames, colour)
    positions = np.zeros((len(frames), 2))
    seen = masks.reshape(len(frames), -1).sum(1) >= MIN_PIXELS
    for i in np.flatnonzero(seen):
        rows, cols = np.nonzero(masks[i])
        positions[i] = floor_point(np.array([cols.mean(), rows.mean()]), intrinsics, world_from_camera, height)
    return positions, seen


def project(point: np.ndarray, intrinsics: np.ndarray, world_from_camera: np.ndarray) -> np.ndarray | None:
    """The pixel (column, row) a world point [3] is seen at, or None behind the camera."""
    camera = np.linalg.inv(world_from_camera) @ np.append(point, 1.0)
    if camera[2] >= 0:  # the camera looks down its -Z
        return None
    f, cx, cy = intrinsics[0, 0], intrinsics[0, 2], intrinsics[1, 2]
    return np.array([cx + f * camera[0] / -camera[2] - 0.5, cy - f * camera[1] / -camera[2] - 0.5])


def mark_goal(frames: np.ndarray, goal: np.ndarray, intrinsics: np.ndarray, world_from_camera: np.ndarray,
              radius: float) -> np.ndarray:
    """A copy of uint8 frames [T, H, W, 3] with the goal region (a floor circle) drawn in."""
    import cv2

    marked = frames.copy()
    ring = [project(np.array([*(goal + radius * np.array([np.cos(a), np.sin(a)])), 0.0]), intrinsics,
                    world_from_camera) for a in np.linspace(0, 2 * np.pi, 24, endpoint=False)]
    if any(p is None for p in ring):
        return marked
    points = np.round(np.array(ring) * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    for frame in marked:
        cv2.polylines(frame, [points], True, (255, 230, 0), 1, cv2.LINE_AA, shift=2)
    return marked
