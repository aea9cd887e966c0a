"""Transfer: ControlNet branches on the world model, their training data and training."""

import json

import numpy as np
import pytest
import torch

from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.training import Launch, export, train
from worldgraph.engines.transfer import joint
from worldgraph.engines.transfer.api import ControlInput, latent_weight, transfer
from worldgraph.engines.transfer.controls import control_video
from worldgraph.engines.transfer.joint import subsets
from worldgraph.engines.transfer.model import Control, ControlBranch, ControlConfig, ControlledDiT, token_weights
from worldgraph.engines.transfer.train import BranchTrainer
from worldgraph.engines.weights import CheckpointError
from worldgraph.engines.wfm import api as wfm
from worldgraph.engines.wfm.api import Sampling, WFMInputError
from worldgraph.engines.wfm.model import PRESETS, DiT


def random_dit() -> DiT:
    torch.manual_seed(0)
    net = DiT(PRESETS["tiny-wfm"])
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return net.eval()


def inputs(batch: int = 2):
    x = torch.randn(batch, 17, 2, 4, 4)
    return x, torch.zeros(batch), torch.randn(batch, 5, 384), torch.ones(batch, 5, dtype=torch.bool)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("transferdata")
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=31, count=2), ClipSettings(frames=17)),
                  root, workers=1)
    return root


def test_an_untrained_branch_changes_nothing_and_a_trained_one_does():
    base = random_dit()
    branch = ControlBranch(base, ControlConfig("edge", blocks=1))
    hint = torch.randn(2, 16, 2, 4, 4)
    x = inputs()
    with torch.no_grad():
        plain = base(*x)
        assert torch.equal(ControlledDiT(base, [Control(branch, hint)])(*x), plain)
        for p in branch.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        steered = ControlledDiT(base, [Control(branch, hint)])(*x)
        assert (steered - plain).abs().max() > 1e-3
        zero_weight = ControlledDiT(base, [Control(branch, hint, 0.0)])(*x)
        assert torch.allclose(zero_weight, plain, atol=1e-6)
        # guidance doubles the batch: one hint serves both halves
        assert ControlledDiT(base, [Control(branch, hint[:1])])(*inputs(4)).shape == (4, 16, 2, 4, 4)


def test_branch_copies_the_first_base_blocks_and_trains_them():
    base = random_dit().requires_grad_(False)
    branch = ControlBranch(base, ControlConfig("depth", blocks=1))
    assert torch.equal(branch.blocks[0].attn.q.weight, base.blocks[0].attn.q.weight)
    assert all(p.requires_grad for p in branch.parameters())
    with pytest.raises(ValueError, match="unknown modality 'heat'"):
        ControlBranch(base, ControlConfig("heat", blocks=1))
    with pytest.raises(ValueError, match=r"copies 1\.\.1 base blocks, not 2"):
        ControlBranch(base, ControlConfig("edge", blocks=2))


def test_weights_are_normalized_per_location_by_max_of_sum_and_one():
    base = random_dit()
    branch = ControlBranch(base, ControlConfig("edge", blocks=1))
    hint = torch.zeros(1, 16, 2, 4, 4)
    ramp = torch.zeros(1, 1, 2, 4, 4)
    ramp[:, :, 1] = 1.0  # the second latent frame only
    w = token_weights([Control(branch, hint, 0.5), Control(branch, hint, 2.0), Control(branch, hint, ramp)],
                      patch=2, batch=1, grid=(2, 4, 4))
    first, second = w[0][0, :4, 0], w[0][0, 4:, 0]  # 4 tokens per latent frame
    assert torch.allclose(first, torch.full((4,), 0.5 / 2.5)) and torch.allclose(second, torch.full((4,), 0.5 / 3.5))
    assert torch.allclose(w[2][0, :4, 0], torch.zeros(4)) and torch.allclose(w[2][0, 4:, 0], torch.full((4,), 1 / 3.5))
    lone = token_weights([Control(branch, hint, 0.4)], patch=2, batch=1, grid=(2, 4, 4))[0]
    assert torch.allclose(lone, torch.full_like(lone, 0.4))  # a sum below 1 is kept


@pytest.mark.parametrize("modality", ["vis", "edge", "depth", "seg"])
def test_control_videos_from_a_dataset_clip(clips, modality):
    clip = next((clips / "clips").iterdir())
    video = control_video(modality, clip, 0, 17, np.random.default_rng(0))
    assert video.shape == (17, 64, 64, 3) and video.dtype == np.uint8
    assert video.std() > 5  # structure, not a flat frame
    if modality == "edge":
        assert set(np.unique(video)) <= {0, 255}


def test_a_branch_trains_resumes_and_exports(clips, tmp_path):
    run = tmp_path / "run"
    edge = {"modality": "edge"}
    train(BranchTrainer, "tiny-controlnet", clips, run, Launch(steps=2), arguments=edge)
    assert json.loads((run / "last.json").read_text())["step"] == 2
    train(BranchTrainer, "tiny-controlnet", clips, run, Launch(steps=3), arguments=edge)
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 3 and state["modality"] == "edge" and len(state["losses"]) == 3
    with pytest.raises(ValueError, match="a run with modality edge, not seg; use another run folder"):
        train(BranchTrainer, "tiny-controlnet", clips, run, Launch(steps=4), arguments={"modality": "seg"})
    shipped = export(BranchTrainer, run / "last", tmp_path / "ckpt")[0]
    meta = json.loads(shipped.with_suffix(".json").read_text())
    assert shipped.name == "controlnet-edge.safetensors" and meta["config"]["blocks"] == 1
    assert meta["command"].startswith("worldgraph train controlnet --modality edge --recipe tiny-controlnet")
    from worldgraph.engines.wfm.api import CHECKPOINTS

    assert meta["base_sha256"] == json.loads((CHECKPOINTS / "wfm-cv4x8x8.json").read_text())["sha256"]


def test_captions_that_say_the_floor_need_a_cache_made_with_them(clips, tmp_path):
    from worldgraph.engines.sim.dataset import read_manifest
    from worldgraph.engines.transfer.data import build_cache, clip_caption, load_cache
    from worldgraph.engines.wfm.api import load

    space = load().space
    path = build_cache(clips, space, "edge", tmp_path / "controls.safetensors", floor_words=True)
    assert load_cache(path, space, "edge", floor_words=True)["text"].shape[0] == 3  # the empty prompt, 2 captions
    with pytest.raises(ValueError, match="its captions say the floor's texture, the recipe's do not"):
        load_cache(path, space, "edge")
    record = read_manifest(clips)[0]
    worded = clip_caption(clips / "clips" / record["id"], record, floor_words=True)
    assert worded.startswith(record["caption"] + "; the floor is ")


@pytest.fixture(scope="module")
def branches(clips, tmp_path_factory):
    """A one-block edge branch on the shipped world model, a few steps trained."""
    run = tmp_path_factory.mktemp("branchrun")
    train(BranchTrainer, "tiny-controlnet", clips, run, Launch(steps=2), arguments={"modality": "edge"})
    return export(BranchTrainer, run / "last", tmp_path_factory.mktemp("branches"))[0].parent


def edges(frames: int = 17, size: int = 64) -> np.ndarray:
    video = np.zeros((frames, size, size, 3), np.uint8)
    video[:, size // 4, :] = 255
    return video


def test_transfer_follows_its_control_and_is_seeded(branches):
    world = wfm.load()
    settings = Sampling(steps=2, guidance=0.0, seed=3)
    a = transfer(world, "a red ball", [ControlInput("edge", edges())], settings, 5, folder=branches)
    assert a.shape == (1, 16, 2, 8, 8)
    assert torch.equal(a, transfer(world, "a red ball", [ControlInput("edge", edges())], settings, 5, folder=branches))
    started = transfer(world, "a red ball", [ControlInput("edge", edges())], settings, 5,
                       input_video=np.full((5, 64, 64, 3), 200, np.uint8), folder=branches)
    assert not torch.allclose(a, started)  # the input video noised to sigma_max is the start


@pytest.mark.parametrize(("controls", "frames", "words"), [
    ([], 5, "needs at least one control"),
    ([ControlInput("edge", edges(3))], 5, "edge video has 3 frames; Transfer makes 5"),
    ([ControlInput("edge", edges()), ControlInput("vis", edges(size=32))], 5, "vis video is 32x32 but edge is 64x64"),
    ([ControlInput("edge", edges(), np.ones((5, 32, 32)))], 5, "edge weight map is 5x32x32; it must match"),
    ([ControlInput("edge", edges(), 0.0)], 5, "every control weight is zero"),
    ([ControlInput("edge", edges(), -1.0)], 5, "edge weight must be >= 0"),
    ([ControlInput("edge", edges()), ControlInput("edge", edges())], 5, "a modality is given twice"),
    ([ControlInput("edge", edges())], 6, "6 frames: Transfer makes 1 \\+ 4k frames"),
])
def test_bad_transfer_requests_are_named(branches, controls, frames, words):
    with pytest.raises(WFMInputError, match=words):
        transfer(wfm.load(), "x", controls, Sampling(steps=1, guidance=0.0), frames, folder=branches)


def test_a_modality_without_a_branch_checkpoint_is_named(branches):
    with pytest.raises(CheckpointError, match=r"no ControlNet checkpoint 'controlnet-seg'.*installed there: controlnet-edge"):
        transfer(wfm.load(), "x", [ControlInput("seg", edges())], Sampling(steps=1, guidance=0.0), 5, folder=branches)


def test_weight_maps_are_averaged_onto_the_latent_grid():
    ramp = np.zeros((9, 16, 16), np.float32)
    ramp[5:] = 1.0  # the frames of the third latent frame
    ramp[:, :8] *= 0.5  # the top half weaker
    w = latent_weight(ramp, 9, (16, 16), "edge")
    assert w.shape == (1, 1, 3, 2, 2)
    assert torch.allclose(w[0, 0, :, 0, 0], torch.tensor([0.0, 0.0, 0.5]))
    assert torch.allclose(w[0, 0, :, 1, 0], torch.tensor([0.0, 0.0, 1.0]))
    static = latent_weight(np.ones((16, 16)), 9, (16, 16), "edge")
    assert static.shape == (1, 1, 3, 2, 2) and torch.all(static == 1)
    assert latent_weight(0.7, 9, (16, 16), "edge") == 0.7


def test_joint_subsets_are_never_empty_and_take_every_size():
    chosen = subsets(np.random.default_rng(0), 400)
    assert chosen.shape == (400, 4) and chosen.any(1).all()
    assert set(chosen.sum(1)) == {1, 2, 3, 4}
    mostly_all = subsets(np.random.default_rng(0), 400, (0.1, 0.1, 0.1, 0.7)).sum(1)
    assert 0.6 < (mostly_all == 4).mean() < 0.8


def test_a_per_clip_weight_of_zero_leaves_that_clip_to_the_base():
    base = random_dit()
    branch = ControlBranch(base, ControlConfig("edge", blocks=1))
    with torch.no_grad():
        for p in branch.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    x, c_noise, text, mask = inputs()
    hint = torch.randn(2, 16, 2, 4, 4)
    steered = ControlledDiT(base, [Control(branch, hint, torch.tensor([1.0, 0.0]).reshape(2, 1, 1, 1, 1))])
    with torch.no_grad():
        out, plain = steered(x, c_noise, text, mask), base(x, c_noise, text, mask)
    assert torch.allclose(out[1], plain[1], atol=1e-6) and not torch.allclose(out[0], plain[0], atol=1e-3)


def test_the_shipped_branches_fine_tune_together_resume_and_export(clips, tmp_path):
    run = tmp_path / "joint"
    train(joint.JointTrainer, "tiny-controlnet-joint", clips, run, Launch(steps=1))
    train(joint.JointTrainer, "tiny-controlnet-joint", clips, run, Launch(steps=2))
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 2 and len(state["losses"]) == 2
    assert sorted(p.name for p in run.glob("controls-*.safetensors")) == [
        f"controls-{m}.safetensors" for m in sorted(("vis", "edge", "depth", "seg"))]
    shipped = export(joint.JointTrainer, run / "last", tmp_path / "ckpt")
    assert [p.name for p in shipped] == [f"controlnet-{m}.safetensors" for m in ("vis", "edge", "depth", "seg")]
    meta = json.loads(shipped[3].with_suffix(".json").read_text())
    assert meta["command"].startswith("worldgraph train controlnet --modality all --recipe tiny-controlnet-joint")
    from worldgraph.engines.catalog import SHIPPED

    before = json.loads((SHIPPED / "controlnet-seg.json").read_text())  # what the fine-tune started from
    assert meta["starts_from"]["command"] == before["command"]
    assert meta["starts_from"].get("starts_from") == before.get("starts_from")  # the whole chain is kept
    assert meta["config"]["blocks"] == 3 and meta["steps"] == 2


def test_a_fresh_joint_run_starts_from_the_base_without_shipped_branches(clips, tmp_path, monkeypatch):
    def shipped_branch(*args):
        raise AssertionError("a fresh run loaded a shipped branch")

    monkeypatch.setattr(joint, "load_branch", shipped_branch)
    run = tmp_path / "fresh"
    train(joint.JointTrainer, "tiny-controlnet-joint-fresh", clips, run, Launch(steps=1))
    shipped = export(joint.JointTrainer, run / "last", tmp_path / "ckpt")
    meta = json.loads(shipped[0].with_suffix(".json").read_text())
    assert meta["starts_from"] == {} and meta["config"]["blocks"] == 1 and meta["steps"] == 1
