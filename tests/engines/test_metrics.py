import torch

from worldgraph.engines.metrics import psnr, ssim


def test_psnr_and_ssim_behave():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    assert torch.allclose(ssim(x, x), torch.ones(4))
    noisy = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert (ssim(x, noisy) < 0.95).all()
    assert (ssim(x, (x + 0.02 * torch.randn_like(x)).clamp(0, 1)) > ssim(x, noisy)).all()
    assert torch.allclose(psnr(x, x + 0.1), torch.full((4,), 20.0), atol=1e-3)  # MSE 0.01 -> 20 dB
