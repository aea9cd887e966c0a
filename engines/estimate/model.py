"""A small per-frame U-Net that estimates depth or segmentation classes from RGB.

Frames are estimated one at a time (no temporal layers): controls are per-frame maps, and a
2D net is what 2 CPU cores can train in minutes. The first level is thin because it runs at
full resolution; width grows as the resolution drops.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

TASKS = ("depth", "seg")
# segmentation classes: what the scene family's prims are, so instances can be named after them
CLASSES = ("background", "floor", "sphere", "cube", "cylinder", "capsule", "other")


@dataclass(frozen=True)
class EstimatorConfig:
    task: str = "depth"
    widths: tuple[int, ...] = (16, 32, 64, 96)
    groups: int = 8

    @property
    def out_channels(self) -> int:
        return 1 if self.task == "depth" else len(CLASSES)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EstimatorConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "widths" in known:
            known["widths"] = tuple(known["widths"])
        cfg = cls(**known)
        if cfg.task not in TASKS:
            raise ValueError(f"unknown estimator task {cfg.task!r}; tasks: {', '.join(TASKS)}")
        return cfg


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm + SiLU; the first may change width or stride."""

    def __init__(self, cin: int, cout: int, groups: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(min(groups, cout), cout), nn.SiLU(),
            nn.Conv2d(cout, cout, 3, 1, 1), nn.GroupNorm(min(groups, cout), cout), nn.SiLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Estimator(nn.Module):
    """RGB in [0, 1], [B, 3, H, W] -> [B, 1, H, W] log-depth or [B, classes, H, W] logits."""

    def __init__(self, cfg: EstimatorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        self.down = nn.ModuleList([ConvBlock(3, w[0], cfg.groups)] + [
            ConvBlock(w[i - 1], w[i], cfg.groups, stride=2) for i in range(1, len(w))])
        self.up = nn.ModuleList([ConvBlock(w[i + 1] + w[i], w[i], cfg.groups) for i in range(len(w) - 1)])
        self.head = nn.Conv2d(w[0], cfg.out_channels, 1)
        self.initialize_weights()

    def initialize_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.bias is not None:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        for p in self.head.parameters():  # start from a flat map: log-depth 0 (1 m) / uniform classes
            nn.init.zeros_(p)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        skips = []
        x = (rgb - 0.5) * 2
        for block in self.down:
            x = block(x)
            skips.append(x)
        for i in reversed(range(len(self.up))):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")  # [B, w[i+1], H_i, W_i]
            x = self.up[i](torch.cat([x, skips[i]], dim=1))
        return self.head(x)
