"""The diffusion world model: network properties, EDM, sampler, training, checkpoints, inputs,
evaluation metrics."""

import json

import numpy as np
import pytest
import torch

from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.training import Launch, export, train
from worldgraph.engines.weights import CheckpointError
from worldgraph.engines.wfm import api, colours, edm
from worldgraph.engines.wfm.data import LatentSpace, build_cache, load_cache
from worldgraph.engines.wfm.evaluate import compare, evaluate, score
from worldgraph.engines.wfm.model import PRESETS, DiT, WFMConfig, apply_rope, rope_3d
from worldgraph.engines.wfm.train import WorldModel


def random_dit(cfg: WFMConfig = PRESETS["tiny-wfm"]) -> DiT:
    torch.manual_seed(0)
    net = DiT(cfg)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return net.eval()


def text(batch: int = 1, length: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(batch, length, 384), torch.ones(batch, length, dtype=torch.bool)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("wfmdata")
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=21, count=3), ClipSettings(frames=17)),
                  root, workers=1)
    return root


@pytest.fixture(scope="module")
def tiny_model(clips, tmp_path_factory):
    run = tmp_path_factory.mktemp("wfmrun")
    train(WorldModel, "tiny-wfm", clips, run, Launch(steps=2))
    assert json.loads((run / "last.json").read_text())["step"] == 2
    train(WorldModel, "tiny-wfm", clips, run, Launch(steps=4))  # resumes at step 2
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 4 and len(state["losses"]) == 4
    shipped = export(WorldModel, run / "last", tmp_path_factory.mktemp("wfmckpt"))[0]
    return api.load(str(shipped.with_suffix(".json")))


def test_rope_scores_depend_only_on_relative_position():
    cos, sin = rope_3d(4, 3, 3, 24)
    q, k = torch.randn(24), torch.randn(24)
    rq = apply_rope(q.expand(1, 1, 36, 24), cos, sin)[0, 0]
    rk = apply_rope(k.expand(1, 1, 36, 24), cos, sin)[0, 0]
    index = lambda t, h, w: t * 9 + h * 3 + w  # noqa: E731
    a = rq[index(2, 1, 1)] @ rk[index(1, 0, 1)]
    b = rq[index(3, 2, 2)] @ rk[index(2, 1, 2)]  # same offset, elsewhere
    c = rq[index(3, 2, 2)] @ rk[index(0, 1, 2)]  # another offset
    assert torch.allclose(a, b, atol=1e-4) and not torch.allclose(a, c, atol=1e-3)


def test_untrained_network_predicts_zero_and_denoiser_is_c_skip_x():
    net = DiT(PRESETS["tiny-wfm"])  # zero-initialized modulation and output
    x = torch.randn(2, 16, 3, 8, 8)
    sigma = torch.tensor([0.3, 5.0])
    d = edm.Denoiser(net)(x, sigma, edm.Condition(*text(2)))
    c_skip = 0.25 / (sigma**2 + 0.25)
    assert torch.allclose(d, c_skip.reshape(-1, 1, 1, 1, 1) * x, atol=1e-6)


def test_given_frames_come_out_exactly_and_the_rest_depends_on_them():
    denoiser = edm.Denoiser(random_dit())
    clean = torch.randn(1, 16, 3, 8, 8) * 0.5
    mask = torch.tensor([1.0, 0, 0]).reshape(1, 1, 3, 1, 1)
    noisy = torch.randn(1, 16, 3, 8, 8) * 2
    tokens, tmask = text()
    out = denoiser(noisy, torch.tensor([2.0]), edm.Condition(tokens, tmask, clean, mask, 0.0))
    assert torch.equal(out[:, :, 0], clean[:, :, 0])
    other = clean.clone()
    other[:, :, 0] += 1
    moved = denoiser(noisy, torch.tensor([2.0]), edm.Condition(tokens, tmask, other, mask, 0.0))
    assert (moved[:, :, 1:] - out[:, :, 1:]).abs().max() > 1e-4


def test_karras_schedule():
    s = edm.karras_sigmas(10, 0.002, 80.0)
    assert len(s) == 11 and s[0] == pytest.approx(80.0) and s[-2] == pytest.approx(0.002) and s[-1] == 0
    assert (s.diff() < 0).all()


def test_heun_samples_a_gaussian_better_than_euler():
    """With the exact denoiser of N(0, 0.5²) data the ODE ends at std 0.5; Heun gets closer."""
    exact = lambda x, sigma: x * 0.25 / (0.25 + sigma.reshape(-1, 1) ** 2)  # noqa: E731
    noise = torch.randn(4000, 8, generator=torch.Generator().manual_seed(0))
    sigmas = edm.karras_sigmas(18)
    heun = edm.sample(exact, noise, sigmas, "heun").std().item()
    euler = edm.sample(exact, noise, sigmas, "euler").std().item()
    assert abs(heun - 0.5) < 0.04  # 0.528 measured; converges to 0.5 with more steps
    assert abs(heun - 0.5) < abs(euler - 0.5)
    with pytest.raises(ValueError, match="unknown sampler"):
        edm.sample(exact, noise, sigmas, "ddim")


def test_guidance_pushes_away_from_the_negative_prompt():
    denoiser = edm.Denoiser(random_dit())
    x = torch.randn(1, 16, 2, 8, 8)
    sigma = torch.tensor([1.0])
    pos, neg = edm.Condition(*text(1, 5)), edm.Condition(*text(1, 3))
    plain = edm.guided(denoiser, pos, None, 0.0)(x, sigma)
    g = 2.0
    guided = edm.guided(denoiser, pos, neg, g)(x, sigma)
    d_neg = denoiser(x, sigma, neg)
    assert torch.allclose(guided, plain + g * (plain - d_neg), atol=1e-4)


def test_loss_weighting_and_uncertainty():
    torch.manual_seed(0)
    denoiser, u = edm.Denoiser(DiT(PRESETS["tiny-wfm"])), edm.Uncertainty()
    x0 = torch.randn(4, 16, 2, 8, 8) * 0.5
    loss = edm.edm_loss(denoiser, u, x0, edm.Condition(*text(4)))
    # an untrained model gives D = c_skip x: the weighted error is ~1 per element at every σ
    assert 0.6 < loss.item() < 1.6
    loss.backward()
    assert u.head.weight.grad is not None and u.head.weight.grad.abs().sum() > 0


def test_trained_tiny_model_generates_text2world_and_video2world(tiny_model):
    settings = api.Sampling(steps=2, guidance=1.5, seed=3)
    z = tiny_model.generate(["a red ball falls; the camera is still", "a blue box slides"], settings)
    assert z.shape == (2, 16, 5, 8, 8) and torch.isfinite(z).all()
    again = tiny_model.generate(["a red ball falls; the camera is still", "a blue box slides"], settings)
    assert torch.equal(z, again)  # seeded
    frames = (np.random.default_rng(0).random((5, 64, 64, 3)) * 255).astype(np.uint8)
    given = tiny_model.encode_video(frames)
    out = tiny_model.generate(["a red ball falls"], settings, given=given, frames=17)
    assert out.shape == (1, 16, 5, 8, 8)
    assert torch.allclose(out[:, :, :2], given, atol=1e-5)  # the given frames come out as given
    video = tiny_model.decode(out)
    assert video.shape == (1, 17, 64, 64, 3) and video.dtype == np.uint8


@pytest.mark.parametrize(
    "settings, prompt, message",
    [
        (api.Sampling(guidance=25), "a ball", "guidance must be within 0..20"),
        (api.Sampling(steps=0), "a ball", "steps must be within 1..200"),
        (api.Sampling(guidance=3), "  ", "an empty prompt with guidance on"),
        (api.Sampling(sigma_max=0.001), "a ball", "sigma_min < sigma_max"),
        (api.Sampling(method="ddim"), "a ball", "unknown sampler"),
    ],
)
def test_bad_sampling_settings_are_named(tiny_model, settings, prompt, message):
    with pytest.raises(api.WFMInputError, match=message):
        tiny_model.generate([prompt], settings)


def test_bad_condition_clips_are_named(tiny_model):
    frames = np.zeros((3, 64, 64, 3), np.uint8)
    with pytest.raises(api.WFMInputError, match="condition clip: 3 frames: the tokenizer takes 1 \\+ 4k"):
        tiny_model.encode_video(frames)
    with pytest.raises(api.WFMInputError, match="40x40: this model needs sides that are multiples of 16"):
        tiny_model.encode_video(np.zeros((1, 40, 40, 3), np.uint8))
    with pytest.raises(api.WFMInputError, match="expected uint8"):
        tiny_model.encode_video(np.zeros((1, 64, 64, 3), np.float32))
    given = tiny_model.encode_video(np.zeros((17, 64, 64, 3), np.uint8))
    with pytest.raises(api.WFMInputError, match="the condition covers 17 frames, nothing left to generate"):
        tiny_model.generate(["a ball"], api.Sampling(steps=1), given=given, frames=17)


def test_a_fine_tune_starts_from_the_shipped_model_and_records_it(tiny_model, clips, tmp_path):
    from worldgraph.engines import weights
    from worldgraph.engines.training import load_state
    from worldgraph.engines.wfm import train as trainer

    cfg = PRESETS["tiny-wfm"]
    start = weights.save(tiny_model.net, tmp_path / "start.safetensors",
                         {"config": cfg.to_json(), "latent_fingerprint": tiny_model.space.fingerprint})
    start = start.with_suffix(".json")
    recipe = trainer.Recipe("tiny-wfm", steps=1, batch=4, lr=0.0, warmup=1, checkpoint_seconds=0.0, init=str(start))
    train(WorldModel, recipe, clips, tmp_path / "run")  # a Recipe, not a registered name
    run = trainer.Run(DiT(cfg))
    load_state(tmp_path / "run" / "last", run, torch.optim.AdamW(run.parameters()))
    before = tiny_model.net.state_dict()
    for key, value in run.ema.state_dict().items():  # lr 0: still the start, not a fresh network
        assert torch.equal(value, before[key].float()), key
    exported = export(WorldModel, tmp_path / "run" / "last", tmp_path / "out")[0]
    assert json.loads(exported.with_suffix(".json").read_text())["init"] == str(start)


def test_checkpoint_of_another_tokenizer_is_refused(tmp_path):
    from worldgraph.engines import weights

    cfg = WFMConfig(name="other", latent_channels=4, width=32, depth=1, heads=2, lora_rank=4)
    path = weights.save(DiT(cfg), tmp_path / "other.safetensors", {"config": cfg.to_json()})
    with pytest.raises(CheckpointError, match="takes 4-channel latents but its tokenizer cv4x8x8 makes 16"):
        api.load(str(path.with_suffix(".json")))
    cfg = PRESETS["tiny-wfm"]
    path = weights.save(DiT(cfg), tmp_path / "moved.safetensors", {"config": cfg.to_json(),
                                                                      "latent_fingerprint": "0" * 64})
    with pytest.raises(CheckpointError, match="latents of another cv4x8x8 encoder"):
        api.load(str(path.with_suffix(".json")))
    with pytest.raises(CheckpointError, match="no world-model checkpoint 'nope'"):
        api.load("nope")


def test_physics_iq_metrics():
    rng = np.random.default_rng(0)
    truth = np.full((9, 32, 32, 3), 90, np.uint8)
    for t in range(9):  # a bright square moving right
        truth[t, 10:18, 2 + 2 * t : 10 + 2 * t] = 250
    same = compare(truth, truth, 1)
    assert same["mse"] == 0 and same["spatial_iou"] == same["spatiotemporal_iou"] == same["weighted_spatial_iou"] == 1
    still = np.repeat(truth[:1], 9, axis=0)
    frozen = compare(still, truth, 1)
    assert frozen["spatiotemporal_iou"] == 0 and frozen["mse"] > 0
    noisy = np.clip(truth + rng.normal(0, 3, truth.shape), 0, 255).astype(np.uint8)  # sensor noise: no motion
    assert compare(noisy, truth, 1)["spatiotemporal_iou"] > 0.9
    assert score(same, same) == 100.0
    assert score(frozen, same) < 50


def test_colour_check_reads_objects_off_the_pixels():
    import cv2

    frame = np.full((64, 64, 3), 128, np.uint8)
    cv2.circle(frame, (16, 16), 6, (220, 30, 25), -1)
    cv2.rectangle(frame, (40, 40), (52, 52), (30, 60, 220), -1)
    cv2.circle(frame, (48, 14), 5, (30, 60, 220), -1)
    assert colours.detected(frame)["red"] == 1 and colours.detected(frame)["blue"] == 2
    video = np.repeat(frame[None], 5, axis=0)
    assert colours.named("a red ball falls; a blue box slides and hits the red ball; a grey cube rolls") == {
        "red": 1, "blue": 1}
    assert colours.adheres(video, "a red ball falls; a blue box slides; a blue ball rolls")
    assert not colours.adheres(video, "a green ball falls")
    assert colours.adheres(video, "a white ball falls") is None  # nothing chromatic to check


def test_colour_table_is_learnt_from_the_segmentation(clips, tmp_path, capsys):
    from safetensors.numpy import load_file

    from worldgraph.cli import main

    counts = colours.learn_table(clips, 3)
    table = colours.export_table(counts, {"data": str(clips)}, tmp_path / "colours.safetensors")
    classes = load_file(str(table))["classes"]
    assert json.loads(table.with_suffix(".json").read_text())["pixels"]["scene"] == counts[-1].sum() > 0
    chromatic = [c for c, name in enumerate(colours.CLASSES) if name in colours.FAMILY_OF and counts[c].sum()]
    assert chromatic  # the scenes have coloured objects, and each claims the colour it shows most
    assert all(classes[counts[c].argmax()] == c for c in chromatic)
    assert main(["train", "colours"]) == 2 and "needs --data" in capsys.readouterr().err


def test_evaluation_reports_every_method_and_metric(tiny_model, clips):
    table = evaluate(tiny_model, clips, api.Sampling(steps=1, guidance=0), batch=2,
                     text2world=api.Sampling(steps=1, guidance=2))
    for method in ("video2world", "copy_first_frame", "tokenizer_reconstruction", "physical_variance"):
        for metric in ("mse", "psnr", "ssim", "spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou", "score"):
            assert set(table[method][metric]) == {"1", "2"}, (method, metric)
    assert table["physical_variance"]["score"]["2"] == 100.0
    assert table["physical_variance"]["mse"]["2"] < table["copy_first_frame"]["mse"]["2"]
    assert 0 <= table["text2world"]["prompt_adherence"] <= 1


def test_an_interrupted_run_keeps_its_last_steps(clips, tmp_path):
    def stop_at_two(step, total, loss, speed):
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(WorldModel, "tiny-wfm", clips, tmp_path, Launch(steps=4), report=stop_at_two)
    assert json.loads((tmp_path / "last.json").read_text())["step"] == 2  # saved on the way out


def test_the_latent_cache_holds_the_empty_prompt_and_older_caches_are_refused(clips, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    from worldgraph.engines.text import minilm

    space = LatentSpace("cv4x8x8")
    cache = load_cache(build_cache(clips, space, tmp_path / "latents.safetensors"), space)
    null, null_mask = minilm().tokens([""])
    n = int(null_mask.sum())
    assert cache["null_mask"].shape == cache["text_mask"][:1].shape and int(cache["null_mask"].sum()) == n
    assert torch.allclose(cache["null_text"][0, :n].float(), null[0, :n], atol=1e-2)  # fp16 in the cache
    with safe_open(str(tmp_path / "latents.safetensors"), "pt") as f:
        meta, old = f.metadata(), {k: f.get_tensor(k) for k in f.keys() if not k.startswith("null_")}  # noqa: SIM118
    save_file(old, str(tmp_path / "old.safetensors"), metadata=meta)
    with pytest.raises(ValueError, match=r"old\.safetensors: made by an older worldgraph.*delete it"):
        load_cache(tmp_path / "old.safetensors", space)


@pytest.mark.parametrize(("device", "message"), [
    ("tpu", "unknown device 'tpu'; use cpu or cuda"),
    ("meta", "device 'meta': training runs on cpu or cuda"),
    pytest.param("cuda", "device 'cuda': this torch build sees no CUDA GPU",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is there")),
])
def test_a_training_device_is_checked_before_anything_is_encoded(clips, tmp_path, device, message):
    with pytest.raises(ValueError, match=message):
        train(WorldModel, "tiny-wfm", clips, tmp_path, Launch(steps=1, device=device))
    assert not (tmp_path / "latents.safetensors").exists()
