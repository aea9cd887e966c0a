import torch

from worldgraph.engines.metrics import motion_iou, psnr, ssim


def test_psnr_and_ssim_behave():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    assert torch.allclose(ssim(x, x), torch.ones(4))
    noisy = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert (ssim(x, noisy) < 0.95).all()
    assert (ssim(x, (x + 0.02 * torch.randn_like(x)).clamp(0, 1)) > ssim(x, noisy)).all()
    assert torch.allclose(psnr(x, x + 0.1), torch.full((4,), 20.0), atol=1e-3)  # MSE 0.01 -> 20 dB


def test_motion_iou():
    still = torch.zeros(5, 3, 8, 8)
    moving = still.clone()
    for t in range(5):
        moving[t, :, 2, t] = 1.0  # a dot moving right
    assert motion_iou(still, still) is None
    assert motion_iou(moving, moving) == 1.0
    assert motion_iou(moving, still) == 0.0
    half = moving.clone()
    half[3:] = half[2]  # stops half way
    assert 0 < motion_iou(moving, half) < 1
