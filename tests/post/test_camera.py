"""Camera-conditioned Video2World: Plücker rays, joystick and USD camera paths, the tiny
training run and checkpoint, generation, the node, the evaluation, and bad inputs."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from worldgraph.engines import catalog
from worldgraph.engines.post import camera_api, camera_eval, camera_pose
from worldgraph.engines.post.camera import (
    CameraInputError,
    check_rays,
    default_intrinsics,
    joystick,
    plucker,
    usd_camera_path,
)
from worldgraph.engines.post.camera_data import add_camera, scene_caption
from worldgraph.engines.post.camera_train import CameraModel
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.training import Launch, export, train
from worldgraph.engines.weights import CheckpointError, save
from worldgraph.engines.wfm.api import Sampling
from worldgraph.engines.wfm.data import LatentSpace
from worldgraph.engines.wfm.model import PRESETS, DiT
from worldgraph.nodes.context import CancelToken, Context
from worldgraph.nodes.errors import NodeError
from worldgraph.nodes.types import Camera, Video

K = default_intrinsics()


def orbit(frames: int = 17, degrees: float = 2.0) -> np.ndarray:
    """World-from-camera poses circling the origin at 1.5 m, looking at it."""
    poses = []
    for i in range(frames):
        a = np.radians(degrees * i)
        eye = np.array([1.5 * np.sin(a), 0.3, 1.5 * np.cos(a)])
        back = eye / np.linalg.norm(eye)  # the camera looks down -Z: +Z points away from the target
        right = np.cross([0, 1, 0], back)
        right /= np.linalg.norm(right)
        pose = np.eye(4)
        pose[:3, :3] = np.stack([right, np.cross(back, right), back], 1)
        pose[:3, 3] = eye
        poses.append(pose)
    return np.stack(poses)


# ------------------------------------------------------------------------------ rays and paths


def test_rays_are_relative_to_the_first_camera():
    rays = plucker(orbit(), K)
    assert rays.shape == (6, 5, 8, 8)
    assert np.allclose(rays[3:, 0], 0, atol=1e-6)  # the first camera sits at the origin: no moment
    assert np.allclose(np.linalg.norm(rays[:3], axis=0), 1, atol=1e-5)
    centre = rays[:3, 0, 3:5, 3:5].mean(axis=(1, 2))
    assert centre[2] < -0.99  # the middle of the first frame looks down -Z
    # moving the whole scene in the world changes nothing the model sees
    shift = np.eye(4)
    shift[:3, :3] = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    shift[:3, 3] = [3, -2, 5]
    assert np.allclose(plucker(shift[None] @ orbit(), K), rays, atol=1e-5)


def test_joystick_moves_and_turns_as_told():
    poses = joystick(9, forward=0.1)
    assert np.allclose(poses[-1, :3, 3], [0, 0, -0.8])  # forward: down the view axis
    turned = joystick(5, yaw=10.0)
    view = turned[-1, :3, :3] @ np.array([0, 0, -1.0])
    assert np.isclose(np.degrees(np.arctan2(-view[0], -view[2])), 40.0)  # left turn: view swings to -X
    varying = joystick(5, strafe=[0.1, 0.1, 0.0, 0.0])
    assert np.allclose(varying[-1, :3, 3], [0.2, 0, 0])


def test_usd_camera_path_reads_the_animated_camera(tmp_path):
    from pxr import Gf, Usd, UsdGeom

    stage = Usd.Stage.CreateNew(str(tmp_path / "shot.usda"))
    cam = UsdGeom.Camera.Define(stage, "/World/cam")
    cam.GetFocalLengthAttr().Set(18.0)
    cam.GetHorizontalApertureAttr().Set(15.2908)
    op = cam.AddTransformOp()
    truth = orbit(5)
    for i, pose in enumerate(truth):
        op.Set(Gf.Matrix4d(pose.T.tolist()), Usd.TimeCode(i))
    stage.Save()
    poses, intrinsics = usd_camera_path(tmp_path / "shot.usda", "/World/cam", 5)
    assert np.allclose(poses, truth, atol=1e-6)
    assert intrinsics is not None and np.isclose(intrinsics[0, 0], K[0, 0], rtol=1e-4)
    with pytest.raises(CameraInputError, match=r"shot\.usda: no prim /World/missing; cameras in the file: /World/cam"):
        usd_camera_path(tmp_path / "shot.usda", "/World/missing", 5)


def test_bad_paths_and_rays_are_named():
    with pytest.raises(CameraInputError, match="16 poses for 17 frames"):
        plucker(orbit(16), K, frames=17)
    with pytest.raises(CameraInputError, match="1 \\+ 4k"):
        plucker(orbit(16), K)
    with pytest.raises(CameraInputError, match="joystick yaw: step 2 is not finite"):
        joystick(5, yaw=[1.0, 1.0, float("nan"), 1.0])
    with pytest.raises(CameraInputError, match="joystick forward: 3 values for 4 steps"):
        joystick(5, forward=[0.1, 0.1, 0.1])
    scaled = orbit(5)
    scaled[2, :3, :3] *= 2
    with pytest.raises(CameraInputError, match="pose 2 is not a rigid transform"):
        plucker(scaled, K)
    with pytest.raises(CameraInputError, match=r"expected \[B, 6, 5, 8, 8\] Plücker rays .* got \[1, 3, 5, 8, 8\]"):
        check_rays(torch.zeros(1, 3, 5, 8, 8), (5, 8, 8))


def test_scene_caption_drops_the_camera_clause():
    assert scene_caption("a red ball falls; the camera orbits left") == "a red ball falls"
    assert scene_caption("a cube rests") == "a cube rests"


def test_pose_estimate_of_a_still_video_is_still():
    frames = np.random.default_rng(0).integers(0, 255, (17, 64, 64, 3), dtype=np.uint8)
    frames[:] = frames[0]
    static = np.zeros((64, 64), bool)
    static[24:40] = True
    found = camera_pose.estimate(frames, np.full((64, 64), 2.0, np.float32), K, static, (4,))
    err = camera_pose.error(found[4], np.eye(4))
    assert err is not None and err.rotation_deg < 0.5 and err.translation_m < 0.02


# ------------------------------------------------------------------------------ training and generation


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("camdata")
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=5, count=3), ClipSettings(frames=17)),
                  root, workers=1)
    return root


@pytest.fixture(scope="module")
def tiny(clips, tmp_path_factory):
    run = tmp_path_factory.mktemp("camrun")
    train(CameraModel, "tiny-camera", clips, run, Launch(steps=2))
    train(CameraModel, "tiny-camera", clips, run, Launch(steps=4))  # resumes at step 2
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 4 and len(state["losses"]) == 4
    shipped = export(CameraModel, run / "last", tmp_path_factory.mktemp("camckpt"))[0]
    meta = json.loads(shipped.with_suffix(".json").read_text())
    assert meta["config"]["ray_channels"] == 6 and meta["command"].startswith("worldgraph train camera")
    return camera_api.load(str(shipped.with_suffix(".json"))), run


def test_cache_holds_each_windows_rays(tiny, clips):
    from safetensors import safe_open

    _, run = tiny
    with safe_open(str(run / "latents.safetensors"), "pt") as f:
        rays, latents = f.get_tensor("rays"), f.get_tensor("latents")
    assert rays.shape == (len(latents), 6, 5, 8, 8)
    with pytest.raises(ValueError, match="its windows are not those of"):
        add_camera(run / "latents.safetensors", clips.parent, LatentSpace("cv4x8x8"))  # another folder's clips


def test_variants_are_seeded_batches(tiny):
    model, _ = tiny
    given = torch.randn(1, 16, 1, 8, 8)
    path = camera_api.CameraPath(orbit(), K)
    settings = Sampling(steps=2, guidance=0.0, seed=7)
    both = model.generate("", settings, given, path, frames=17, variants=2)
    assert both.shape == (2, 16, 5, 8, 8)
    assert torch.allclose(both[:, :, :1], given.expand(2, -1, -1, -1, -1), atol=1e-5)  # the given frame stays
    assert not torch.allclose(both[0, :, 1:], both[1, :, 1:])
    alone = model.generate("", settings, given, path, frames=17, variants=1)
    assert torch.allclose(alone[0], both[0], atol=1e-5)  # variant 0 is seed 7 whatever the batch
    with pytest.raises(CameraInputError, match="16 poses for 17 frames"):
        model.generate("", settings, given, camera_api.CameraPath(orbit(16), K), frames=17)
    with pytest.raises(CameraInputError, match="Plücker rays"):
        model.generate("", settings, given, rays=torch.zeros(1, 6, 4, 8, 8), frames=17)


def test_a_checkpoint_without_rays_is_refused(tmp_path):
    cfg = PRESETS["tiny-wfm"]
    save(DiT(cfg), tmp_path / "plain.safetensors", {"config": cfg.to_json()})
    with pytest.raises(CheckpointError, match="not a camera-conditioned model .*ray_channels 0"):
        camera_api.load(str(tmp_path / "plain.json"))


def test_evaluation_compares_with_the_base_model(tiny, clips):
    from worldgraph.engines.wfm import api as wfm

    model, _ = tiny
    try:
        held = camera_eval.moving_clips(clips)
    except ValueError:
        pytest.skip("the seeded scenes drew no moving camera")
    table = camera_eval.evaluate(model, wfm.load(), clips, Sampling(steps=1, guidance=0.0), clips=1, batch=2)
    assert table["settings"]["clips"] == 1 and held
    for row in ("camera", "unconditioned", "text_camera", "copy_first_frame", "tokenizer_reconstruction"):
        assert np.isfinite(table[row]["psnr"])
    assert table["copy_first_frame"]["pose_translation_m"] is not None
    assert "camera" in camera_eval.format_table(table)


# ------------------------------------------------------------------------------ node


def context(tmp_path: Path) -> Context:
    return Context("/Graph/camera", 3, tmp_path, lambda event: None, CancelToken())


def test_node_path_sources_name_what_is_missing(tmp_path):
    from worldgraph.nodes.library.wfm import camera_path

    moves = {"forward": 0.0, "strafe": 0.0, "yaw": 0.0, "pitch": 0.0}
    with pytest.raises(NodeError, match="connect a camera"):
        camera_path("camera_input", 17, (64, 64), moves, None, "/World/camera", None)
    with pytest.raises(NodeError, match="9 poses for 17 frames"):
        camera_path("camera_input", 17, (64, 64), moves, None, "/World/camera", Camera(orbit(9), K))
    with pytest.raises(NodeError, match="set usd_path"):
        camera_path("usd_camera", 17, (64, 64), moves, None, "/World/camera", None)
    route = camera_path("camera_input", 17, (64, 64), moves, None, "/World/camera", Camera(orbit(20), K))
    assert route.poses.shape == (17, 4, 4)


@pytest.mark.skipif("camera-cv4x8x8" not in catalog.names("camera"), reason="no shipped camera model")
def test_node_generates_variants_stacked(tmp_path):
    from worldgraph.nodes.library.wfm import CameraControl

    frame = Video(np.full((1, 64, 64, 3), 120, np.uint8), 16.0)
    inputs = {"video": frame, "prompt": None, "path": "joystick", "forward": 0.02, "strafe": 0.0, "yaw": 1.0,
              "pitch": 0.0, "usd_path": None, "camera_prim": "/World/camera", "camera": None, "variants": 2,
              "frames": 5, "steps": 1, "guidance": 0.0, "negative": "", "seed": -1, "sigma_max": 80.0,
              "sampler": "euler", "backend": "auto"}
    out = CameraControl.compute(context(tmp_path), **inputs)
    assert out["video"].frames.shape == (5, 128, 64, 3)
    assert out["latent"].values.shape == (16, 2, 8, 8)
    assert np.allclose(out["camera"].poses[0], np.eye(4))
    with pytest.raises(NodeError, match="joystick yaw: step 0 is not finite"):
        CameraControl.compute(context(tmp_path), **(inputs | {"yaw": float("inf")}))
