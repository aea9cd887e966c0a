"""Causal video tokenizers: architecture properties, FSQ, training, checkpoints, inputs."""

import json

import numpy as np
import pytest
import torch

from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.tokenizer import checkpoint
from worldgraph.engines.tokenizer.api import (
    TokenizerInputError,
    check_frames,
    check_input,
    frames_to_input,
    output_to_frames,
)
from worldgraph.engines.tokenizer.evaluate import evaluate
from worldgraph.engines.tokenizer.haar import haar_forward, haar_inverse
from worldgraph.engines.tokenizer.model import FSQ, PRESETS, Tokenizer
from worldgraph.engines.tokenizer.train import TokenizerTrainer
from worldgraph.engines.training import Launch, export, load_state, train


def random_model(name: str = "tiny-cv") -> Tokenizer:
    """Random weights everywhere (no zero-initialized branches), so every path is active."""
    torch.manual_seed(0)
    model = Tokenizer(PRESETS[name])
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokdata")
    jobs = ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=11, count=2), ClipSettings(frames=9, width=32, height=32))
    write_dataset(jobs, root, workers=1)
    return root


def test_haar_is_invertible_and_causal():
    x = torch.randn(2, 3, 9, 16, 24)
    y = haar_forward(x)
    assert y.shape == (2, 192, 3, 4, 6)
    assert torch.allclose(haar_inverse(y), x, atol=1e-5)
    assert torch.equal(haar_forward(x[:, :, :5]), y[:, :, :2])


@pytest.mark.parametrize("name", ["tiny-cv", "tiny-dv"])
def test_encoder_is_causal_and_handles_images_and_sizes(name):
    model = random_model(name)
    x = torch.rand(1, 3, 13, 24, 40) * 2 - 1  # any size divisible by 8
    with torch.no_grad():
        z = model.encode(x)
        assert z.shape == (1, model.cfg.code_channels, 4, 3, 5)
        assert torch.allclose(model.encode(x[:, :, :5]), z[:, :, :2], atol=1e-5)  # a prefix's latents
        assert torch.allclose(model.encode(x[:, :, :1]), z[:, :, :1], atol=1e-5)  # an image alone
        later = x.clone()
        later[:, :, 5:] = 0  # the future does not change the past
        assert torch.allclose(model.encode(later)[:, :, :2], z[:, :, :2], atol=1e-5)
        assert model.decode(z).shape == x.shape


def test_fsq_codes_ids_and_straight_through():
    fsq = FSQ((8, 5, 5, 5))
    z = torch.randn(2, 4, 3, 5, 5, requires_grad=True)
    codes = fsq(z)
    levels = torch.tensor([8, 5, 5, 5]).view(1, 4, 1, 1, 1)
    assert ((codes * (levels // 2)) - (codes * (levels // 2)).round()).abs().max() < 1e-5
    ids = fsq.indices(codes)
    assert ids.shape == (2, 3, 5, 5) and ids.min() >= 0 and ids.max() < 1000
    assert torch.equal(fsq.codes(ids), codes.detach())
    codes.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    all_ids = torch.arange(1000)
    assert torch.equal(fsq.indices(fsq.codes(all_ids)), all_ids)  # every code is reachable


def test_training_resumes_and_exports_a_checkpoint_that_loads(tiny_data, tmp_path):
    run = tmp_path / "run"
    train(TokenizerTrainer, "tiny-cv", tiny_data, run, Launch(steps=3))
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 3
    train(TokenizerTrainer, "tiny-cv", tiny_data, run, Launch(steps=6))  # picks up at step 3
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 6 and len(state["losses"]) == 6
    model = Tokenizer(PRESETS["tiny-cv"])
    load_state(run / "last", model, torch.optim.AdamW(model.parameters()))
    shipped = checkpoint.export(model, "tiny-cv", {"steps": 6}, folder=tmp_path / "ckpt")
    loaded = checkpoint.load(str(shipped.with_suffix(".json")))
    x = torch.rand(1, 3, 5, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded(x), model.eval()(x), atol=2e-2)  # fp16 storage


def test_decoder_recipe_keeps_the_shipped_encoder_and_trains_the_decoder(tiny_data, tmp_path):
    from worldgraph.engines.tokenizer import train as trainer

    start = random_model("tiny-dv")
    shipped = checkpoint.export(start, "tiny-dv", {}, folder=tmp_path / "ckpt").with_suffix(".json")
    recipe = trainer.Recipe("tiny-dv", steps=2, video_batch=1, frames=5, init=str(shipped), checkpoint_seconds=0.0,
                            ssim_weight=1.0)
    run = tmp_path / "run"
    train(TokenizerTrainer, recipe, tiny_data, run)
    after = Tokenizer(PRESETS["tiny-dv"])
    load_state(run / "last", after, torch.optim.AdamW(after.parameters()))
    before = checkpoint.load(str(shipped)).state_dict()
    for key, value in after.state_dict().items():
        if key.startswith("encoder.") or key.startswith("latent_"):
            assert torch.equal(value, before[key]), key  # the latent space stays put
    assert any(not torch.equal(v, before[k]) for k, v in after.state_dict().items() if k.startswith("decoder."))


def test_whole_model_recipe_trains_the_encoder_and_ships_under_its_own_name(tiny_data, tmp_path):
    from worldgraph.engines.tokenizer import train as trainer

    folder = tmp_path / "ckpt"
    shipped = checkpoint.export(random_model("tiny-cv"), "tiny-cv", {}, folder=folder).with_suffix(".json")
    recipe = trainer.Recipe("tiny-cv", steps=2, video_batch=1, frames=5, init=str(shipped), checkpoint_seconds=0.0,
                            frozen_encoder=False, export_as="tiny-cv-v2", frame_balance=1.0)
    run = tmp_path / "run"
    train(TokenizerTrainer, recipe, tiny_data, run)
    exported = export(TokenizerTrainer, run / "last", folder)[0]
    assert exported == folder / "tiny-cv-v2.safetensors" and shipped.exists()  # the start stays as it was
    after, before = checkpoint.load(str(exported.with_suffix(".json"))), checkpoint.load(str(shipped))
    assert after.cfg.name == "tiny-cv-v2"
    assert any(not torch.equal(v, before.state_dict()[k]) for k, v in after.state_dict().items()
               if k.startswith("encoder."))  # the encoder trained, so the latent statistics were measured anew
    assert not torch.equal(after.latent_std, before.latent_std)
    meta = json.loads(exported.with_suffix(".json").read_text())
    assert meta["init"]["sha256"] == json.loads(shipped.read_text())["sha256"] and meta["device"] == "cpu"


def test_structure_term_counts_what_l1_misses():
    from worldgraph.engines.tokenizer.train import reconstruction_loss

    x = torch.rand(2, 3, 5, 32, 32) * 2 - 1
    assert reconstruction_loss(x, x, 0.5, 0.5, 20.0, structure=2.0).item() == pytest.approx(0.0, abs=1e-6)
    flat = x.mean(dim=(3, 4), keepdim=True).expand_as(x)  # the colours kept, the texture gone
    without, with_ = (reconstruction_loss(x, flat, 0.5, 0.5, structure=w).item() for w in (0.0, 2.0))
    assert with_ > without + 1.0  # 2 x (1 - SSIM) of a texture against a flat fill is near 2


def test_frame_balance_weighs_the_worst_frame_most():
    from worldgraph.engines.tokenizer.train import frame_weights, reconstruction_loss

    x = torch.rand(2, 3, 5, 16, 16) * 2 - 1
    y = x.clone()
    y[:, :, 1] += 0.3  # frame 1 reconstructed worst
    y[:, :, 2:] += 0.05
    w = frame_weights(x, y, 1.0)
    assert w.shape == (2, 5) and torch.allclose(w.mean(1), torch.ones(2))
    assert (w.argmax(1) == 1).all() and w[0, 1] > 3 * w[0, 2]
    assert torch.equal(frame_weights(x, y, 0.0), torch.ones(2, 5))
    plain, balanced = (reconstruction_loss(x, y, 0.5, 0.5, structure=2.0, balance=b).item() for b in (0.0, 1.0))
    assert balanced > plain  # the bad frame's error counts more


def test_checkpoint_errors_name_the_problem(tmp_path):
    model = random_model("tiny-dv")
    weights = checkpoint.export(model, "tiny-dv", {}, folder=tmp_path)
    config = weights.with_suffix(".json")
    with pytest.raises(checkpoint.CheckpointError, match="no tokenizer checkpoint 'nope'"):
        checkpoint.load("nope", tmp_path)
    meta = json.loads(config.read_text())
    meta["config"]["widths"] = [24, 32]
    mismatched = tmp_path / "mismatch.json"
    mismatched.write_text(json.dumps(meta))
    (tmp_path / "mismatch.safetensors").write_bytes(weights.read_bytes())
    with pytest.raises(checkpoint.CheckpointError, match="weights do not match the config .*wrong shape"):
        checkpoint.load(str(mismatched))
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(weights.read_bytes()[:1000])
    (tmp_path / "cut.json").write_text(config.read_text())
    with pytest.raises(checkpoint.CheckpointError, match="sha256 differs .*truncated"):
        checkpoint.load(str(tmp_path / "cut.json"))
    meta = json.loads(config.read_text())
    del meta["sha256"]  # without a checksum the reader itself must notice
    (tmp_path / "cut.json").write_text(json.dumps(meta))
    with pytest.raises(checkpoint.CheckpointError, match="cannot read the weights"):
        checkpoint.load(str(tmp_path / "cut.json"))


@pytest.mark.parametrize(
    "x, message",
    [
        (torch.zeros(1, 4, 5, 16, 16), "expected 3 colour channels"),
        (torch.zeros(1, 3, 5, 20, 16), "multiples of 8, got 20x16 .*16x16"),
        (torch.zeros(1, 3, 0, 16, 16), "the clip has no frames"),
        (torch.zeros(1, 3, 5, 16, 16, dtype=torch.uint8), "expected a float tensor"),
        (torch.full((1, 3, 5, 16, 16), 200.0), "values reach 200: the model takes"),
        (torch.full((1, 3, 5, 16, 16), float("nan")), "NaN"),
        (torch.zeros(1, 3, 7, 16, 16), "7 frames: .* nearest are 5 and 9"),
    ],
)
def test_bad_inputs_are_named(x, message):
    with pytest.raises(TokenizerInputError, match=message):
        check_input(x)


def test_frame_rule_and_padding():
    assert check_frames(17) == 17 and check_frames(1) == 1
    with pytest.raises(TokenizerInputError, match="16 frames: .* nearest are 13 and 17"):
        check_frames(16)
    assert check_frames(16, pad=True) == 17
    frames = np.random.default_rng(0).integers(0, 255, (6, 16, 16, 3), dtype=np.uint8)
    x = frames_to_input(frames, pad=True)
    assert x.shape == (1, 3, 9, 16, 16) and torch.equal(x[:, :, 8], x[:, :, 5])
    with pytest.raises(TokenizerInputError, match="expected uint8 RGB frames"):
        frames_to_input(frames.astype(np.float32) / 255)
    assert np.array_equal(output_to_frames(x, 6), frames)


def test_evaluation_reports_every_figure(tiny_data):
    result = evaluate(random_model("tiny-dv"), tiny_data, frames=9)
    assert result["videos"] == 4 and len(result["psnr_per_frame"]) == 9
    assert {"psnr", "ssim", "first_frame_psnr", "other_frames_psnr", "encode_ms", "decode_ms",
            "codebook_usage"} <= set(result)
    assert 0 < result["codebook_usage"] <= 1


def test_evaluation_from_a_later_frame_reads_that_window(tiny_data):
    model = random_model("tiny-cv")
    whole = evaluate(model, tiny_data, frames=5, start=0)
    later = evaluate(model, tiny_data, frames=5, start=4)
    assert later["start"] == 4 and len(later["psnr_per_frame"]) == 5
    assert later["psnr_per_frame"] != whole["psnr_per_frame"]  # other frames were read
    with pytest.raises(ValueError, match="fewer than 10 .5 from frame 5."):
        evaluate(model, tiny_data, frames=5, start=5)  # the clips have 9 frames
