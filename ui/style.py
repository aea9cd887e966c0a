"""Colours: one per port type (so a wire's ends match at a glance), one per node family,
one per run state. Plain data, used by the canvas and the panels."""

from __future__ import annotations

RGB = tuple[int, int, int]

PORT_COLORS: dict[str, RGB] = {
    "Video": (236, 196, 64),
    "Control": (240, 140, 50),
    "Latent": (170, 110, 230),
    "Tokens": (200, 120, 200),
    "Prompt": (90, 200, 120),
    "WeightMap": (230, 90, 150),
    "Camera": (90, 170, 230),
    "Actions": (120, 220, 220),
    "Scene": (80, 130, 240),
    "Simulation": (100, 150, 255),
    "Renders": (140, 170, 255),
    "Depth": (150, 150, 150),
    "Segmentation": (210, 170, 120),
    "Verdict": (240, 80, 80),
    "Dataset": (200, 200, 90),
    "file": (180, 180, 180),
}
DEFAULT_PORT: RGB = (160, 160, 160)

FAMILY_COLORS: dict[str, RGB] = {
    "io": (52, 62, 74),
    "scene": (40, 62, 96),
    "controls": (92, 64, 36),
    "guard": (96, 40, 44),
    "tokenizer": (74, 48, 96),
    "wfm": (64, 44, 100),
    "transfer": (36, 84, 64),
    "dataset": (80, 78, 36),
}
DEFAULT_FAMILY: RGB = (60, 60, 60)

# run states: badge text colour on the node
STATE_COLORS: dict[str, RGB] = {
    "idle": (150, 150, 150),
    "invalid": (255, 110, 90),
    "running": (90, 180, 255),
    "done": (100, 220, 120),
    "cached": (150, 200, 255),
    "failed": (255, 80, 80),
    "blocked": (255, 180, 60),
    "skipped": (180, 180, 180),
    "cancelled": (220, 160, 90),
}


def port_color(type_name: str) -> RGB:
    return PORT_COLORS.get(type_name, DEFAULT_PORT)


def family_color(category: str) -> RGB:
    return FAMILY_COLORS.get(category, DEFAULT_FAMILY)
