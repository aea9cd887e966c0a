"""Captions for curated clips: only what we know, never made up.

A clip cut from a video our simulator made (a ``clips/<id>/rgb*.mp4`` beside its
``metadata.json``) gets a caption templated from that metadata: the trajectory-derived
sentence the simulator wrote, or, failing that, the bodies and the camera motion. Any other
clip gets an empty caption and is flagged ``needs_caption``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def simulator_metadata(video: Path) -> dict[str, Any] | None:
    """The simulator's metadata for a video it wrote, or None."""
    meta = video.parent / "metadata.json"
    if not meta.is_file():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "bodies" not in data or "camera_motion" not in data:
        return None
    return data


def caption_for(video: Path) -> tuple[str, str]:
    """(caption, where it came from: "simulator" or "none")."""
    meta = simulator_metadata(video)
    if meta is None:
        return "", "none"
    if isinstance(meta.get("caption"), str) and meta["caption"].strip():
        return meta["caption"].strip(), "simulator"
    return _template(meta), "simulator"


def _template(meta: dict[str, Any]) -> str:
    from ..sim.captions import colour_name

    shapes = {"sphere": "ball", "cube": "box"}
    things = [f"a {colour_name(tuple(b['color']))} {shapes.get(b['shape'], b['shape'])}"
              for b in meta.get("bodies", []) if not b.get("kinematic")]
    motion = meta.get("camera_motion", {})
    kind = motion.get("kind", "static") if isinstance(motion, dict) else "static"
    camera = {"orbit": "the camera orbits", "dolly": "the camera dollies", "pan": "the camera pans"}.get(
        kind, "the camera is still")
    return "; ".join([", ".join(things[:3]) or "an empty floor", camera])
