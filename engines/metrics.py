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
    g = (g / g.sum()).to(x.device)  # float32, as x and y are below
    window = (g[:, None] * g[None, :]).expand(x.shape[1], 1, 11, 11).contiguous()

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, window, groups=x.shape[1])  # valid: no padding artefacts

    x, y = x.float(), y.float()
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def motion_masks(video: torch.Tensor, threshold: float = 0.1) -> torch.Tensor:
    """Where a clip [T, C, H, W] in [0, 1] changes: |frame t - frame t-1| over the threshold
    in any channel, after a 3x3 box blur that keeps sensor noise and codec speckle out
    -> bool [T - 1, H, W]."""
    blurred = F.avg_pool2d(video.float(), 3, stride=1, padding=1, count_include_pad=False)
    return blurred.diff(dim=0).abs().amax(dim=1) > threshold


def _iou(a: torch.Tensor, b: torch.Tensor) -> float | None:
    union = (a | b).sum().item()
    return (a & b).sum().item() / union if union else None


def spatial_iou(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """Physics-IQ spatial IoU of motion masks [T, H, W]: where motion happens at all."""
    return _iou(a.any(0), b.any(0))


def spatiotemporal_iou(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """Physics-IQ spatiotemporal IoU: where and when motion happens."""
    return _iou(a, b)


def weighted_spatial_iou(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """Physics-IQ weighted spatial IoU: where and how much (frames of motion per pixel)."""
    ca, cb = a.sum(0).float(), b.sum(0).float()
    most = torch.maximum(ca, cb).sum().item()
    return torch.minimum(ca, cb).sum().item() / most if most else None


def motion_iou(x: torch.Tensor, y: torch.Tensor, threshold: float = 0.1) -> float | None:
    """Spatiotemporal IoU of the motion masks of two clips [T, C, H, W] in [0, 1]; None when
    neither moves."""
    return spatiotemporal_iou(motion_masks(x, threshold), motion_masks(y, threshold))


def si_rmse(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Scale-invariant RMSE of log depth per frame (Eigen et al. 2014) over the pixels where
    both depths are positive; frames [T, H, W] in any unit -> [T]. Multiplying ``pred`` by
    any constant leaves it unchanged."""
    valid = (pred > 0) & (truth > 0)
    d = torch.where(valid, pred.clamp_min(1e-6).log() - truth.clamp_min(1e-6).log(), torch.zeros_like(pred))
    n = valid.flatten(1).sum(1).clamp_min(1)
    mean = d.flatten(1).sum(1) / n
    return ((d.flatten(1) ** 2).sum(1) / n - mean**2).clamp_min(0).sqrt()


def class_overlaps(pred: torch.Tensor, truth: torch.Tensor, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixels of intersection and of union per class of two integer label maps -> two [classes]."""
    a = F.one_hot(pred.long().flatten(), classes).bool()
    b = F.one_hot(truth.long().flatten(), classes).bool()
    return (a & b).sum(0), (a | b).sum(0)


def mean_iou(pred: torch.Tensor, truth: torch.Tensor, classes: int) -> float:
    """Mean over classes of intersection over union, summed over all pixels of two integer
    label maps; a class in neither map does not count."""
    inter, union = class_overlaps(pred, truth, classes)
    seen = union > 0
    return (inter[seen] / union[seen]).mean().item() if seen.any() else float("nan")
