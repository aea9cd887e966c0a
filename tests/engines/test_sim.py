"""Physics scenes: USD in, MuJoCo simulation, renders, export and datasets."""

import json
from pathlib import Path

import numpy as np
import pytest

from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, read_manifest, verify, write_dataset
from worldgraph.engines.sim.export import export_usd
from worldgraph.engines.sim.pipeline import ClipSettings, make_clip
from worldgraph.engines.sim.randomize import RandomizeConfig, random_scene
from worldgraph.engines.sim.scene import SceneError, load_scene
from worldgraph.engines.sim.simulate import SimulationDiverged

from ..conftest import SAMPLES

SCENES = sorted((SAMPLES / "scenes").glob("*.usda"))
SMALL = ClipSettings(frames=9, width=32, height=32)

HEADER = '#usda 1.0\n(\n    metersPerUnit = 1\n    upAxis = "Z"\n)\n'
PHYSICS = 'def PhysicsScene "physicsScene"\n{\n}\n'
FLOOR = 'def Plane "floor" (\n    prepend apiSchemas = ["PhysicsCollisionAPI"]\n)\n{\n    uniform token axis = "Z"\n}\n'


def body(name="ball", apis='"PhysicsRigidBodyAPI", "PhysicsCollisionAPI"', kind="Sphere", extra=""):
    return (f'def {kind} "{name}" (\n    prepend apiSchemas = [{apis}]\n)\n{{\n'
            f'    double radius = 0.1\n    double size = 0.2\n'
            f'    double3 xformOp:translate = (0, 0, 0.5)\n'
            f'    uniform token[] xformOpOrder = ["xformOp:translate"]\n{extra}}}\n')


def scene(tmp_path, *parts, name="scene.usda") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(parts))
    return path


def test_every_sample_scene_simulates_and_renders():
    assert len(SCENES) >= 6
    for file in SCENES:
        clip = make_clip(file, SMALL, 0)
        r = clip.render
        assert r.rgb["real"].shape == r.rgb["plain"].shape == (9, 32, 32, 3)
        assert (r.depth > 0).any() and r.segmentation.max() >= 2, file.name
        assert set(r.segment_paths.values()) >= {b.path for b in clip.scene.bodies if not b.kinematic}
        assert clip.caption, file.name


def test_bodies_fall_and_the_camera_sees_them(tmp_path):
    clip = make_clip(scene(tmp_path, PHYSICS, FLOOR, body()), ClipSettings(frames=17), 0)
    ball = clip.model.body("/ball").id
    z = clip.trajectory.body_pos[:, ball, 2]
    assert z[0] == pytest.approx(0.5) and z[-1] < 0.2  # gravity pulled it down
    ids = {v: k for k, v in clip.render.segment_paths.items()}
    assert (clip.render.segmentation == ids["/ball"]).any()
    seen = clip.render.depth[clip.render.segmentation == ids["/ball"]]
    assert 0.2 < seen.mean() < 10  # metres to the ball
    assert clip.caption.startswith("a grey ball falls")
    k = clip.render.intrinsics
    assert k[0, 2] == 32 and k[1, 2] == 32 and k[0, 0] == k[1, 1] > 0


BAD_SCENES = {
    "no physics scene": ((FLOOR, body()), "no PhysicsScene prim"),
    "body without collider": ((PHYSICS, body(apis='"PhysicsRigidBodyAPI"')), "rigid body /ball has no collider"),
    "zero mass": ((PHYSICS, body(apis='"PhysicsRigidBodyAPI", "PhysicsCollisionAPI", "PhysicsMassAPI"',
                                 extra="    float physics:mass = 0\n")), "rigid body /ball has mass 0"),
    "negative mass": ((PHYSICS, body(apis='"PhysicsRigidBodyAPI", "PhysicsCollisionAPI", "PhysicsMassAPI"',
                                     extra="    float physics:mass = -2\n")), "has mass -2"),
    "unsupported prim": ((PHYSICS, body(name="cone", kind="Cone")), "/cone is a Cone, which MuJoCo cannot simulate"),
    "camera far away": ((PHYSICS, body(), 'def Camera "cam"\n{\n    double3 xformOp:translate = (500, 0, 1)\n'
                         '    uniform token[] xformOpOrder = ["xformOp:translate"]\n}\n'),
                        "camera /cam is outside the scene's bounds"),
    "missing texture": ((PHYSICS, body(), 'def Material "m"\n{\n    def Shader "tex"\n    {\n'
                         '        uniform token info:id = "UsdUVTexture"\n        asset inputs:file = @wood.png@\n'
                         '    }\n}\n'), "texture 'wood.png' of /m/tex does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENES))
def test_bad_scenes_are_refused_naming_the_prim(tmp_path, case):
    parts, message = BAD_SCENES[case]
    path = scene(tmp_path, *parts)
    with pytest.raises(SceneError, match=message) as info:
        load_scene(path)
    assert str(path) in str(info.value)


def test_an_exploding_scene_names_the_body(tmp_path):
    fast = body(name="bullet", extra="    vector3f physics:velocity = (0, 0, 100000)\n")
    with pytest.raises(SimulationDiverged, match=r"diverged at frame 0 .*body /bullet") as info:
        make_clip(scene(tmp_path, PHYSICS, FLOOR, fast), SMALL, 0)
    assert "substeps" in str(info.value)


def test_kinematic_pusher_follows_its_actions():
    clip = make_clip(SAMPLES / "scenes" / "pusher.usda", ClipSettings(frames=17), 0)
    pusher = clip.model.body("/World/pusher").id
    x = clip.trajectory.body_pos[:, pusher, 0]
    assert clip.trajectory.actions.shape == (17, 3)
    assert clip.trajectory.actions[0, 0] == pytest.approx(0.9)
    assert x[8] - x[0] == pytest.approx(0.9 * 8 / 16, abs=0.02)  # 0.9 m/s for half a second
    assert "/World/box_a" in clip.trajectory.hits


def test_randomized_scenes_are_reproducible_and_varied(tmp_path):
    a = random_scene(tmp_path / "a.usda", 7).read_text()
    b = random_scene(tmp_path / "b.usda", 7).read_text()
    c = random_scene(tmp_path / "c.usda", 8).read_text()
    assert a == b and a != c
    counts = [len(load_scene(random_scene(tmp_path / f"s{i}.usda", i)).bodies) for i in range(12)]
    assert min(counts) >= 1 and max(counts) <= 4 and len(set(counts)) > 1
    with pytest.raises(ValueError, match="shapes must be among"):
        RandomizeConfig(shapes=("cone",))


def test_camera_motion_moves_the_camera(tmp_path):
    static = make_clip(SAMPLES / "scenes" / "orbit_static.usda", ClipSettings(frames=9, camera_motion="static"), 0)
    orbit = make_clip(SAMPLES / "scenes" / "orbit_static.usda", SMALL, 0)
    assert np.allclose(static.render.extrinsics[0], static.render.extrinsics[-1])
    centre = orbit.scene.centre
    start, end = orbit.render.extrinsics[0][:3, 3] - centre, orbit.render.extrinsics[-1][:3, 3] - centre
    angle = np.degrees(np.arctan2(end[1], end[0]) - np.arctan2(start[1], start[0]))
    assert angle == pytest.approx(90, abs=3)  # the scene's camera orbits 90 degrees
    assert "orbits" in orbit.caption


def test_animated_usd_export_reopens_with_time_samples(tmp_path):
    from pxr import Usd, UsdGeom

    clip = make_clip(SAMPLES / "scenes" / "tabletop_drop.usda", SMALL, 0)
    stage = Usd.Stage.Open(str(export_usd(clip, tmp_path / "anim.usda")))
    assert (stage.GetStartTimeCode(), stage.GetEndTimeCode(), stage.GetTimeCodesPerSecond()) == (0, 8, 16)
    ball = UsdGeom.Xformable(stage.GetPrimAtPath("/World/ball"))
    ball_id = clip.model.body("/World/ball").id
    for t in (0, 4, 8):
        where = np.array(ball.ComputeLocalToWorldTransform(t).ExtractTranslation())
        assert np.allclose(where, clip.trajectory.body_pos[t, ball_id], atol=1e-6)
    assert ball.GetPrim().GetAttribute("xformOp:transform").GetNumTimeSamples() == 9
    camera = UsdGeom.Xformable(stage.GetPrimAtPath("/World/camera"))
    assert np.allclose(camera.ComputeLocalToWorldTransform(0).ExtractTranslation(), (0, -1.5, 1.25))


def test_dataset_is_complete_checksummed_and_reproducible(tmp_path):
    jobs = ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=3, count=3), SMALL)
    one = write_dataset(jobs, tmp_path / "one", workers=1)
    two = write_dataset(jobs, tmp_path / "two", workers=2)
    assert one.made == two.made == ["000000", "000001", "000002"] and not one.failed
    assert (tmp_path / "one" / "manifest.jsonl").read_bytes() == (tmp_path / "two" / "manifest.jsonl").read_bytes()
    assert verify(tmp_path / "one") == []
    clip = tmp_path / "one" / "clips" / "000001"
    assert sorted(p.name for p in clip.iterdir()) == [
        "camera.json", "depth.npy", "metadata.json", "prompt.txt", "rgb.mp4", "rgb_plain.mp4",
        "scene.usda", "segmentation.json", "segmentation.npy",
    ]
    assert np.load(clip / "depth.npy").dtype == np.float16
    assert len(json.loads((clip / "camera.json").read_text())["world_from_camera"]) == 9
    again = write_dataset(jobs, tmp_path / "one", workers=1)  # nothing left to do
    assert again.made == [] and again.kept == ["000000", "000001", "000002"]
    (clip / "depth.npy").write_bytes(b"tampered")
    assert verify(tmp_path / "one") == [f"{clip / 'depth.npy'}: checksum differs from the manifest (line 2)"]


def test_dataset_in_a_read_only_place_fails_clearly():
    from worldgraph.engines.sim.dataset import DatasetError

    jobs = ClipJobs(SceneSet(files=(SCENES[0],)), SMALL)
    with pytest.raises(DatasetError, match="cannot write the dataset in /sys/worldgraph"):
        write_dataset(jobs, Path("/sys/worldgraph/data"))


def test_half_made_clips_are_redone(tmp_path):
    jobs = ClipJobs(SceneSet(files=tuple(SCENES[:2])), SMALL)
    write_dataset(jobs, tmp_path, workers=1)
    manifest = tmp_path / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    manifest.write_text(lines[0] + "\n" + lines[1][:20])  # killed while writing line 2
    (tmp_path / "clips" / ".000005.tmpdir").mkdir()  # a temporary folder left behind
    assert [r["id"] for r in read_manifest(tmp_path)] == ["000000"]
    report = write_dataset(jobs, tmp_path, workers=1)
    assert report.made == ["000001"] and verify(tmp_path) == []
    assert [r["id"] for r in read_manifest(tmp_path)] == ["000000", "000001"]
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["000000", "000001"]


def test_reader_serves_seeded_windows_and_crops(tmp_path):
    import torch

    from worldgraph.engines.sim.reader import ClipDataset

    jobs = ClipJobs(SceneSet(files=(SAMPLES / "scenes" / "pusher.usda",)), ClipSettings(frames=9, width=40, height=32))
    write_dataset(jobs, tmp_path, workers=1)
    data = ClipDataset(tmp_path, frames=5, crop=24, seed=1)
    item = data[0]
    assert item["rgb"].shape == item["plain"].shape == (3, 5, 24, 24)
    assert item["depth"].shape == item["edges"].shape == (1, 5, 24, 24)
    assert item["segmentation"].shape == (5, 24, 24) and item["segmentation"].dtype == torch.int64
    assert item["actions"].shape == (5, 3) and item["world_from_camera"].shape == (5, 4, 4)
    assert item["rgb"].min() >= 0 and item["rgb"].max() <= 1 and item["depth"].max() > 0
    assert "pusher" in item["caption"]
    assert torch.equal(data[0]["rgb"], item["rgb"])  # same seed and epoch: same window
    draws = set()
    for epoch in range(6):  # other epochs draw other crops and windows
        data.set_epoch(epoch)
        d = data[0]
        draws.add((d["intrinsics"][0, 2].item(), d["world_from_camera"][0, 0, 3].item()))
    assert len(draws) > 1
    with pytest.raises(ValueError, match="does not fit"):
        ClipDataset(tmp_path, frames=10)


def test_mesh_bodies_and_procedural_textures(tmp_path):
    mesh = ('def Mesh "rock" (\n    prepend apiSchemas = ["PhysicsRigidBodyAPI", "PhysicsCollisionAPI", "PhysicsMeshCollisionAPI"]\n)\n{\n'
            '    uniform token physics:approximation = "convexHull"\n'
            '    int[] faceVertexCounts = [3, 3, 3, 3]\n    int[] faceVertexIndices = [0, 1, 2, 0, 3, 1, 1, 3, 2, 2, 3, 0]\n'
            '    point3f[] points = [(0, 0, 0), (0.2, 0, 0), (0, 0.2, 0), (0, 0, 0.2)]\n'
            '    custom token worldgraph:texture = "checker"\n'
            '    double3 xformOp:translate = (0, 0, 0.6)\n    uniform token[] xformOpOrder = ["xformOp:translate"]\n}\n')
    clip = make_clip(scene(tmp_path, PHYSICS, FLOOR, mesh), ClipSettings(frames=17), 0)
    rock = clip.model.body("/rock").id
    assert clip.trajectory.body_pos[-1, rock, 2] < 0.3  # it fell onto the floor
    assert clip.model.nmat >= 1  # the checker became a material
    bad = scene(tmp_path, PHYSICS, FLOOR, body(extra='    custom token worldgraph:texture = "plaid"\n'), name="bad.usda")
    with pytest.raises(SceneError, match="/ball has worldgraph:texture 'plaid'; use one of checker"):
        load_scene(bad)


def test_the_floor_pattern_is_read_for_the_prompt(tmp_path):
    from worldgraph.engines.sim.captions import with_floor
    from worldgraph.engines.sim.scene import read_floor_pattern

    speckled = FLOOR.replace('axis = "Z"\n', 'axis = "Z"\n    custom token worldgraph:texture = "noise"\n')
    assert read_floor_pattern(scene(tmp_path, PHYSICS, speckled, body())) == "noise"
    assert read_floor_pattern(scene(tmp_path, PHYSICS, FLOOR, body(), name="bare.usda")) is None
    assert read_floor_pattern(tmp_path / "missing.usda") is None
    assert with_floor("a red ball falls", "noise") == "a red ball falls; the floor is speckled"
    assert with_floor("a red ball falls", None) == "a red ball falls"


def test_usdshade_file_textures_are_rendered(tmp_path):
    from worldgraph.engines.media.video import write_png

    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[:, ::4] = (255, 255, 0)
    write_png(tmp_path / "stripes.png", stripes)
    shader = ('def Material "paint"\n{\n    def Shader "tex"\n    {\n        uniform token info:id = "UsdUVTexture"\n'
              '        asset inputs:file = @stripes.png@\n    }\n}\n')
    bound = body(name="box", kind="Cube", apis='"PhysicsRigidBodyAPI", "PhysicsCollisionAPI", "MaterialBindingAPI"',
                 extra="    rel material:binding = </paint>\n")
    plain_scene = scene(tmp_path, PHYSICS, FLOOR, body(name="box", kind="Cube"), name="plain.usda")
    textured = make_clip(scene(tmp_path, PHYSICS, FLOOR, shader, bound), SMALL, 0)
    untextured = make_clip(plain_scene, SMALL, 0)
    assert textured.model.ntex == untextured.model.ntex + 1
    assert not np.array_equal(textured.render.rgb["real"], untextured.render.rgb["real"])
    assert np.array_equal(textured.render.segmentation, untextured.render.segmentation)


def test_clips_render_on_any_thread_one_after_another():
    """A host that runs each graph on a new worker thread (the editor) renders every time."""
    import threading

    made = []
    worker = threading.Thread(target=lambda: made.append(make_clip(SCENES[0], SMALL, 0)))
    worker.start()
    worker.join()
    made.append(make_clip(SCENES[0], SMALL, 0))  # the main thread, after the worker's context
    assert len(made) == 2 and np.array_equal(made[0].render.rgb["plain"], made[1].render.rgb["plain"])
