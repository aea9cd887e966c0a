"""Template captions read off what actually happened in a simulation.

The words come from the trajectory (how far each body fell, slid and turned, what it hit)
and the camera's motion, so hand-authored and randomized scenes are captioned alike:
"a red ball rolls and hits the blue box; a green cylinder falls; the camera orbits left".
"""

from __future__ import annotations

import math

import numpy as np

from .scene import Body

PALETTE: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.12, 0.1), "orange": (0.95, 0.5, 0.1), "yellow": (0.95, 0.85, 0.15),
    "green": (0.15, 0.7, 0.2), "cyan": (0.1, 0.75, 0.8), "blue": (0.12, 0.25, 0.85),
    "purple": (0.5, 0.2, 0.7), "pink": (0.95, 0.5, 0.7), "brown": (0.5, 0.3, 0.15),
    "white": (0.92, 0.92, 0.92), "grey": (0.5, 0.5, 0.5), "black": (0.08, 0.08, 0.08),
}
FLOOR_WORDS = {"checker": "checkered", "gradient": "shaded", "noise": "speckled", "image": "textured"}
SHAPE_NOUNS = {"sphere": "ball", "cube": "box", "cylinder": "cylinder", "capsule": "capsule",
               "mesh": "object", "plane": "board"}


def colour_name(rgb: tuple[float, float, float]) -> str:
    return min(PALETTE, key=lambda n: sum((a - b) ** 2 for a, b in zip(PALETTE[n], rgb, strict=True)))


def with_floor(caption: str, pattern: str | None) -> str:
    """``caption`` with a clause for the floor's texture, which the plain render and its
    controls cannot show: "...; the floor is checkered"."""
    word = FLOOR_WORDS.get(pattern or "")
    return f"{caption}; the floor is {word}" if word else caption


def noun(body: Body) -> str:
    thing = "pusher" if body.kinematic else SHAPE_NOUNS.get(body.shape, "object")
    return f"{colour_name(body.color)} {thing}"


def _article(phrase: str) -> str:
    return "an" if phrase[0] in "aeiou" else "a"


def describe_motion(body: Body, pos: np.ndarray, quat: np.ndarray, fps: float) -> str | None:
    """A verb phrase for one body's path (positions [T, 3], w-x-y-z quaternions [T, 4])."""
    if body.kinematic:
        travel = float(np.linalg.norm(pos[-1, :2] - pos[0, :2]))
        return "moves in" if travel > 0.05 else None
    drop = float(pos[0, 2] - pos[-1, 2])
    slide = float(np.linalg.norm(pos[-1, :2] - pos[0, :2]))
    turn = math.degrees(2 * math.acos(min(1.0, abs(float(quat[0] @ quat[-1])))))
    round_ = body.shape in ("sphere", "cylinder", "capsule")
    launch = float(np.linalg.norm(pos[1] - pos[0])) * fps if len(pos) > 1 else 0.0
    if launch > 0.4 and drop > 0.05:
        return "is thrown"
    if round_ and slide > 0.15 and turn > 90:
        return "rolls"
    if drop > max(0.05, body.size / 2):
        return "falls"
    if turn > 60 and body.shape != "sphere" and slide < 0.4:
        return "topples over"
    if slide > 0.08:
        return "rolls" if round_ and turn > 45 else "slides"
    return None


def caption(
    bodies: list[Body],
    body_pos: dict[str, np.ndarray],
    body_quat: dict[str, np.ndarray],
    hits: dict[str, str],
    camera_motion: str = "static",
    camera_amount: float = 0.0,
    fps: float = 16.0,
) -> str:
    """One sentence per moving body, then the camera; ``hits`` maps a body to the first
    other body it touched."""
    by_path = {b.path: b for b in bodies}
    clauses = []
    for b in bodies:
        verb = describe_motion(b, body_pos[b.path], body_quat[b.path], fps)
        if verb is None:
            continue
        clause = f"{_article(noun(b))} {noun(b)} {verb}"
        if b.path in hits and hits[b.path] in by_path:
            clause += f" and hits the {noun(by_path[hits[b.path]])}"
        clauses.append(clause)
    if not clauses:
        still = [f"{_article(noun(b))} {noun(b)}" for b in bodies if not b.kinematic][:3]
        clauses.append(f"{', '.join(still)} {'rests' if len(still) == 1 else 'rest'} on the floor"
                       if still else "an empty floor")
    camera = {
        "static": "the camera is still",
        "orbit": f"the camera orbits {'left' if camera_amount >= 0 else 'right'}",
        "dolly": f"the camera dollies {'in' if camera_amount >= 0 else 'out'}",
        "pan": f"the camera pans {'left' if camera_amount >= 0 else 'right'}",
    }[camera_motion]
    return "; ".join(clauses + [camera])
