"""Control estimators: the per-frame depth / segmentation net, its data, training, shipped
checkpoints and the metrics that judge them."""

import json

import numpy as np
import pytest
import torch

from worldgraph.engines.estimate import api
from worldgraph.engines.estimate.data import build_cache, class_lookup, clip_classes, load_cache
from worldgraph.engines.estimate.evaluate import evaluate
from worldgraph.engines.estimate.model import CLASSES, Estimator, EstimatorConfig
from worldgraph.engines.estimate.train import EstimatorTrainer, augment, depth_loss
from worldgraph.engines.metrics import mean_iou, si_rmse
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.training import Launch, export, train
from worldgraph.engines.weights import CheckpointError


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("estimatedata")
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=41, count=2), ClipSettings(frames=9)),
                  root, workers=1)
    return root


@pytest.mark.parametrize("task", ["depth", "seg"])
def test_the_net_maps_frames_to_one_map_per_pixel(task):
    net = Estimator(EstimatorConfig(task, (8, 8, 8))).eval()
    out = net(torch.rand(2, 3, 24, 40))
    assert out.shape == (2, 1 if task == "depth" else len(CLASSES), 24, 40)
    assert torch.count_nonzero(out) == 0  # zero-initialized head: a flat first guess


def test_frames_of_any_size_are_padded_and_cropped_back():
    seen = []

    def run(x):
        seen.append(tuple(x.shape))
        return x[:, :1]

    frames = np.random.default_rng(0).integers(0, 255, (70, 20, 30, 3), dtype=np.uint8)
    out = api.run_frames(frames, run)
    assert out.shape == (70, 1, 20, 30)
    assert seen == [(64, 3, 24, 32), (6, 3, 24, 32)]  # batches of 64, sides padded to multiples of 8
    assert torch.allclose(out[:, 0], torch.from_numpy(frames[..., 0]).float() / 255)


@pytest.mark.parametrize(("frames", "message"), [
    (np.zeros((2, 16, 16, 3), np.float32), "uint8"),
    (np.zeros((0, 16, 16, 3), np.uint8), "T > 0"),
    (np.zeros((2, 16, 16), np.uint8), "uint8 \\[T, H, W, 3\\]"),
    (np.zeros((2, 4, 16, 3), np.uint8), "too small"),
])
def test_frames_it_cannot_read_are_refused_with_what_it_takes(frames, message):
    with pytest.raises(api.EstimatorInputError, match=message):
        api.run_frames(frames, lambda x: x)


def test_segmentation_ids_become_classes_named_after_the_prims():
    paths = {1: "/World/floor", 2: "/World/object0", 3: "/World/object1", 5: "/World/pusher"}
    bodies = [{"path": "/World/object0", "shape": "capsule"}, {"path": "/World/object1", "shape": "cube"}]
    table = class_lookup(paths, bodies)
    assert [CLASSES[c] for c in table] == ["background", "floor", "capsule", "cube", "background", "other"]


def test_classes_become_a_segmentation_with_one_stable_id_per_class():
    labels = np.array([[[0, 1], [2, 2]], [[1, 1], [5, 0]]], np.uint8)
    ids, paths = api.as_segmentation(labels)
    assert ids.dtype == np.uint16 and (ids == labels).all()
    assert paths == {1: "/estimated/floor", 2: "/estimated/sphere", 5: "/estimated/capsule"}


def test_si_rmse_ignores_scale_and_sees_structure():
    truth = torch.rand(3, 8, 8) + 0.5
    assert si_rmse(truth * 3.7, truth).max() < 1e-5
    assert si_rmse(truth.flip(-1), truth).min() > 0.05
    truth[:, 0] = 0  # nothing hit: left out
    assert si_rmse(truth * 2, truth).max() < 1e-5


def test_mean_iou_counts_only_classes_that_appear():
    truth = torch.tensor([0, 0, 1, 1])
    assert mean_iou(truth, truth, 7) == 1.0
    assert mean_iou(torch.tensor([0, 0, 0, 1]), truth, 7) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_depth_loss_is_zero_for_the_truth_and_for_a_scaled_truth_when_fully_scale_invariant():
    metres = torch.rand(2, 8, 8) + 0.5
    assert depth_loss(metres.log()[:, None], metres, 0.5) < 1e-6
    assert depth_loss((metres * 2).log()[:, None], metres, 1.0) < 1e-6
    assert depth_loss((metres * 2).log()[:, None], metres, 0.5) > 0.1


def test_augmentation_keeps_frames_in_range_and_changes_them():
    rgb = torch.rand(4, 3, 16, 16)
    out = augment(rgb, torch.Generator().manual_seed(0))
    assert out.shape == rgb.shape and out.min() >= 0 and out.max() <= 1
    assert (out - rgb).abs().mean() > 0.01


def test_the_cache_holds_both_looks_with_their_depth_and_classes(clips, tmp_path):
    cache = load_cache(build_cache(clips, tmp_path / "frames.safetensors", every=3))
    assert cache["rgb"].shape == (2 * 2 * 3, 64, 64, 3)  # clips x looks x every third of 9 frames
    assert cache["depth"].shape == cache["classes"].shape == (12, 64, 64)
    first = clips / "clips" / "000000"
    assert (cache["classes"][:3] == clip_classes(first)[::3]).all()
    assert (cache["classes"][:3] == cache["classes"][3:6]).all()  # the plain look shares the labels
    assert set(np.unique(cache["classes"])) >= {CLASSES.index("floor")}


@pytest.mark.parametrize("task", ["depth", "seg"])
def test_training_resumes_exports_and_loads(clips, tmp_path, task):
    run = tmp_path / "run"
    last = train(EstimatorTrainer, f"tiny-estimate-{task}", clips, run, Launch(steps=2))
    assert json.loads(last.with_suffix(".json").read_text())["step"] == 2
    last = train(EstimatorTrainer, f"tiny-estimate-{task}", clips, run)  # resumes to the recipe's 3 steps
    assert json.loads(last.with_suffix(".json").read_text())["step"] == 3
    shipped = export(EstimatorTrainer, last, tmp_path / "ckpt")[0]
    meta = json.loads(shipped.with_suffix(".json").read_text())
    assert meta["command"] == f"worldgraph train estimator --recipe tiny-estimate-{task} --data {clips}"
    net = api.load(task, tmp_path / "ckpt")
    assert net.cfg.task == task and net.cfg.widths == (8, 8, 8)


def test_a_missing_or_damaged_checkpoint_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="no estimator checkpoint 'estimate-depth'"):
        api.load("depth", tmp_path)
    with pytest.raises(api.EstimatorInputError, match="unknown estimator task 'normals'"):
        api.load("normals", tmp_path)


@pytest.mark.skipif(api.installed() != ["depth", "seg"], reason="the shipped estimators are not installed")
def test_the_shipped_estimators_beat_the_trivial_answers_on_new_clips(clips):
    result = evaluate(clips)
    depth, seg = result["depth"]["si_rmse"], result["seg"]["miou"]
    assert depth["real"] < 0.5 * depth["flat"] and depth["plain"] < 0.5 * depth["flat"]
    assert seg["real"] > 1.5 * seg["all floor"] and seg["plain"] > 1.5 * seg["all floor"]
