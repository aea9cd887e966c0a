"""The action-conditioned world model: its action space, the explore pusher's data,
training from the shipped world model, rollouts and their bad inputs, evaluation."""

import json

import numpy as np
import pytest
import torch

from worldgraph.engines.post import actions as A
from worldgraph.engines.post.action_api import composite_decode, rollout
from worldgraph.engines.post.action_eval import evaluate
from worldgraph.engines.post.action_train import ActionModel
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.training import Launch, export, train
from worldgraph.engines.wfm import api
from worldgraph.engines.wfm.api import Sampling, WFMInputError

PUSHER_SCENES = RandomizeConfig(max_objects=2, starts=("rest",), camera_motions=("static",), pusher=True,
                                pusher_mode="explore")


@pytest.fixture(scope="module")
def pusher_clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("pusherdata")
    write_dataset(ClipJobs(SceneSet(randomize=PUSHER_SCENES, seed=5, count=2), ClipSettings(frames=33)),
                  root, workers=1)
    return root


@pytest.fixture(scope="module")
def tiny_checkpoint(pusher_clips, tmp_path_factory):
    run = tmp_path_factory.mktemp("actionrun")
    train(ActionModel, "tiny-action", pusher_clips, run, Launch(steps=2))
    train(ActionModel, "tiny-action", pusher_clips, run, Launch(steps=3))  # resumes
    assert json.loads((run / "last.json").read_text())["step"] == 3
    return export(ActionModel, run / "last", tmp_path_factory.mktemp("actionckpt"))[0].with_suffix(".json")


@pytest.fixture(scope="module")
def tiny_model(tiny_checkpoint):
    return api.load(str(tiny_checkpoint), kind="action")


def test_ground_frame_follows_the_camera_heading():
    # a camera at -y looking along +y (level): its right is +x, its forward +y
    look_y = np.array([[1, 0, 0, 0], [0, 0, -1, -1], [0, 1, 0, 0.5], [0, 0, 0, 1]], float)
    view = A.to_view(np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.5]]), look_y)
    assert np.allclose(view, [[1, 0, 0], [0, 2, 0.5]])
    # the same push seen from a camera turned 90 degrees left (looking along -x)
    turned = look_y.copy()
    turned[:3, :3] = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]]) @ look_y[:3, :3]
    assert np.allclose(A.to_view(np.array([[0.0, 1.0, 0.0]]), turned), [[1, 0, 0]])
    world = np.random.default_rng(0).normal(size=(5, 3))
    assert np.allclose(A.to_world(A.to_view(world, turned), turned), world)


@pytest.mark.parametrize("values, message", [
    (np.zeros((6, 3)), "multiple of 4"),
    (np.zeros((8, 2)), r"\[frames, 3\]"),
    (np.full((4, 3), np.nan), "NaN"),
])
def test_chunking_rejects_bad_actions(values, message):
    with pytest.raises(A.ActionInputError, match=message):
        A.chunked(values)


def test_explore_pusher_moves_in_chunks_and_objects_rest(pusher_clips):
    clip = pusher_clips / "clips" / "000000"
    actions = np.load(clip / "actions.npy")
    assert actions.shape == (33, 3) and np.abs(actions).max() > 0.1
    chunks = actions[:32].reshape(8, 4, 3)
    assert np.allclose(chunks, chunks[:, :1])  # one velocity per 4-frame chunk
    meta = json.loads((clip / "metadata.json").read_text())
    assert any("pusher" in b["path"] for b in meta["bodies"])


def test_post_training_starts_as_the_shipped_world_model():
    import dataclasses

    from worldgraph.engines.post.base import base_config, post_trained

    cfg = dataclasses.replace(base_config(), name="check", action_dim=A.CHUNK_DIM, ray_channels=6)
    net, base = post_trained(cfg).eval(), api.load().net
    x, c = torch.randn(2, 17, 2, 8, 8), torch.full((2,), 0.2)
    text, mask = torch.randn(2, 4, 384), torch.ones(2, 4, dtype=torch.bool)
    with torch.no_grad():
        same = net(x, c, text, mask, action=torch.randn(2, 12), rays=torch.randn(2, 6, 2, 8, 8))
        assert torch.equal(same, base(x, c, text, mask))
    with pytest.raises(ValueError, match="only action_dim, ray_channels, map_channels and predicts_change"):
        post_trained(dataclasses.replace(cfg, depth=2))


def test_rollout_follows_the_actions(tiny_model):
    import copy

    net = copy.deepcopy(tiny_model.net)
    with torch.no_grad():  # a 3-step model barely moved its zero-initialized action layer
        net.action[2].weight.normal_()
    tiny_model = api.WorldModel(net, tiny_model.space, tiny_model.name)
    given = torch.randn(2, 16, 1, 8, 8) * 0.5
    push = torch.zeros(2, 2, 12)
    push[0, :, 0::3] = 0.8  # item 0 pushes right; item 1 stands still
    z = rollout(tiny_model, given, push, Sampling(steps=2, guidance=0))
    assert z.shape == (2, 16, 3, 8, 8) and torch.equal(z[:, :, :1], given)
    again = rollout(tiny_model, given[:1].expand(2, -1, -1, -1, -1), torch.zeros(2, 2, 12), Sampling(steps=2))
    assert not torch.allclose(z[0, :, 1:], again[0, :, 1:])  # the actions change the prediction


def test_change_model_trains_on_motion_and_starts_from_nothing_moving(pusher_clips, tmp_path):
    from worldgraph.engines.post.action_api import still_reference
    from worldgraph.engines.post.action_train import window_motion

    motion = window_motion(pusher_clips / "clips" / "000000", [0, 16])["motion"]
    assert motion.shape == (2, 4, 8, 8) and 0 < motion.float().mean() < 1  # the pusher moves, the floor does not
    train(ActionModel, "tiny-action-change", pusher_clips, tmp_path, Launch(steps=1))
    assert (tmp_path / "still.safetensors").exists()
    model = api.load(str(export(ActionModel, tmp_path / "last", tmp_path / "ckpt")[0].with_suffix(".json")), kind="action")
    assert model.cfg.predicts_change
    with torch.no_grad():  # a network that outputs nothing...
        model.net.patch_out.weight.zero_()
        model.net.patch_out.bias.zero_()
    given = torch.randn(1, 16, 1, 8, 8) * 0.5
    z = rollout(model, given, torch.randn(1, 2, 12), Sampling(steps=1, guidance=0))
    # ...predicts the scene held still, whatever the actions (up to c_skip(80)·80·noise, ~0.003)
    assert torch.allclose(z[:, :, 1:2], still_reference(model.space, given), atol=0.02)
    assert torch.allclose(z[:, :, 2], z[:, :, 1], atol=0.02)


@pytest.mark.parametrize("given_frames, shape, fill, message", [
    (1, (1, 5, 12), 0.0, "exceed the 5"),
    (1, (1, 2, 9), 0.0, "actions must be"),
    (1, (1, 2, 12), float("nan"), "NaN"),
])
def test_rollout_rejects_bad_requests(tiny_model, given_frames, shape, fill, message):
    with pytest.raises(WFMInputError, match=message):
        rollout(tiny_model, torch.zeros(1, 16, given_frames, 8, 8), torch.full(shape, fill), Sampling(steps=1))


def test_base_and_action_models_are_told_apart(tiny_checkpoint):
    assert "action-cv4x8x8" not in api.available()
    with pytest.raises(api.files.CheckpointError, match="the action-conditioned world model, not a wfm one"):
        api.load(str(tiny_checkpoint))


def test_evaluation_table_has_every_method_and_horizon(tiny_model, pusher_clips):
    result = evaluate(tiny_model, pusher_clips, Sampling(steps=1), clips=1)
    assert result["windows"] == 2  # starts 0 and 16 of a 33-frame clip
    for method in ("action", "no_action", "copy_last_frame", "tokenizer_reconstruction"):
        for horizon in ("8", "16"):
            row = result["methods"][method][horizon]
            assert set(row) == {"psnr", "ssim", "latent_l2"} and np.isfinite(list(row.values())).all()
    assert result["methods"]["tokenizer_reconstruction"]["16"]["latent_l2"] == 0.0


def test_composite_decode_keeps_the_camera_where_nothing_moves(tiny_model, pusher_clips):
    from worldgraph.engines.media.video import read_video

    frames, _ = read_video(pusher_clips / "clips" / "000000" / "rgb.mp4", max_frames=1)
    given = torch.from_numpy(frames).permute(3, 0, 1, 2)[None].float() / 127.5 - 1  # [1, 3, 1, H, W]
    still = given.expand(-1, -1, 5, -1, -1)
    space = tiny_model.space
    assert torch.equal(composite_decode(tiny_model, space.encode(still), given), still)  # the camera's pixels
    moved = still.clone()
    moved[:, :, 1:, 16:32, 16:32] = -moved[:, :, 1:, 16:32, 16:32]  # a patch changes after the given frame
    out = composite_decode(tiny_model, space.encode(moved), given)
    decoded = space.decode(space.encode(moved))
    assert torch.equal(out[:, :, :1], given)
    assert torch.allclose(out[:, :, 1:, 20:28, 20:28], decoded[:, :, 1:, 20:28, 20:28])  # the model's pixels
    assert torch.equal(out[:, :, 1:, 48:, 48:], still[:, :, 1:, 48:, 48:])  # far away: the camera's


def test_pusher_map_lands_on_the_pusher(pusher_clips):
    from worldgraph.engines.post.action_train import window_pusher
    from worldgraph.engines.post.pusher import box_corners, occupancy, offsets

    ious = []
    for clip in sorted((pusher_clips / "clips").iterdir()):
        camera = json.loads((clip / "camera.json").read_text())
        seg = np.load(clip / "segmentation.npy")
        ids = [int(k) for k, v in json.loads((clip / "segmentation.json").read_text()).items() if v.endswith("pusher")]
        drawn = occupancy(box_corners(clip / "scene.usda"), offsets(np.load(clip / "actions.npy")[:16], camera["fps"]),
                          np.asarray(camera["intrinsics"]), np.asarray(camera["world_from_camera"])[:17],
                          (64, 64)) > 0.5
        seen = np.isin(seg[:17], ids)
        visible = seen.sum(axis=(1, 2)) >= 30  # objects hide the pusher in some frames
        ious += list(((drawn & seen).sum(axis=(1, 2)) / np.maximum((drawn | seen).sum(axis=(1, 2)), 1))[visible])
    assert len(ious) >= 5 and np.median(ious) > 0.5  # drawn where the camera sees it
    clip = pusher_clips / "clips" / "000001"
    maps = window_pusher(clip, [0, 16])["pusher"]
    still = window_pusher(clip, [0, 16], still=True)["pusher"]
    assert maps.shape == still.shape == (2, 5, 8, 8) and 0 < maps.max() <= 1
    assert torch.equal(maps[:, 0], still[:, 0]) and torch.allclose(still, still[:, :1].expand_as(still))
    assert not torch.equal(maps, still)  # the actions move it


def test_a_model_that_sees_the_pusher_needs_its_map(pusher_clips, tmp_path):
    train(ActionModel, "tiny-action-pusher", pusher_clips, tmp_path, Launch(steps=1))
    model = api.load(str(export(ActionModel, tmp_path / "last", tmp_path / "ckpt")[0].with_suffix(".json")), kind="action")
    assert model.cfg.map_channels == 1
    given, push = torch.randn(1, 16, 1, 8, 8), torch.zeros(1, 2, 12)
    with pytest.raises(WFMInputError, match="pass its map"):
        rollout(model, given, push, Sampling(steps=1))
    with pytest.raises(WFMInputError, match=r"pusher maps must be \[1, 1, 3, 8, 8\]"):
        rollout(model, given, push, Sampling(steps=1), pusher=torch.zeros(1, 1, 2, 8, 8))
    with torch.no_grad():  # make the map channel matter, then check it reaches the network
        model.net.patch_in.weight[:, -4:].normal_()
        model.net.patch_out.weight.normal_()
    here, there = torch.zeros(1, 1, 3, 8, 8), torch.zeros(1, 1, 3, 8, 8)
    here[..., 2, 2], there[..., 5, 5] = 1.0, 1.0
    a = rollout(model, given, push, Sampling(steps=2, guidance=0), pusher=here)
    b = rollout(model, given, push, Sampling(steps=2, guidance=0), pusher=there)
    assert not torch.allclose(a[:, :, 1:], b[:, :, 1:])
    table = evaluate(model, pusher_clips, Sampling(steps=1, guidance=0), clips=1)
    assert set(table["methods"]) >= {"action", "no_action"}
