"""Image and video quality metrics, our own (no downloaded backbones)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def psnr(x: torch.Tensor, y: torch.Tensor, peak: float = 1.0) -> torch.Tensor:
    """PSNR in dB per leading item, for tensors in [0, peak] with the batch first."""
    mse = (x.float() - y.float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(peak**2 / mse.clamp_min(1e-12))


def ssim(x: torch.Tensor, y: torch.Tensor, peak: float = 1.0) -> torch.Tensor:
    """Mean SSIM per image of [N, C, H, W] in [0, peak]: 11x11 Gaussian window (sigma 1.5),
    the constants of Wang et al. 2004."""
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    g = torch.exp(-((torch.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    g = (g / g.sum()).to(x.dtype)
    window = (g[:, None] * g[None, :]).expand(x.shape[1], 1, 11, 11).contiguous()

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, window, groups=x.shape[1])  # valid: no padding artefacts

    x, y = x.float(), y.float()
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def motion_iou(x: torch.Tensor, y: torch.Tensor, threshold: float = 0.1) -> float | None:
    """IoU of where two clips [T, C, H, W] in [0, 1] change between frames (Physics-IQ's
    spatiotemporal IoU of binary motion masks); None when neither moves."""
    a = (x.diff(dim=0).abs().amax(dim=1) > threshold)
    b = (y.diff(dim=0).abs().amax(dim=1) > threshold)
    union = (a | b).sum().item()
    return (a & b).sum().item() / union if union else None
