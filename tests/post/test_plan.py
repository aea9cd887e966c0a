"""Planning: the push task in the simulator, the colour locator, the cross-entropy method,
the episode runner and the MPC node."""

import numpy as np
import pytest

from worldgraph.engines.plan.locate import floor_point, locate
from worldgraph.engines.plan.mpc import CEMSettings, cem
from worldgraph.engines.plan.push import CHUNK, SUCCESS_RADIUS, episode, load_episode
from worldgraph.engines.plan.run import push_goal, run_episode
from worldgraph.engines.sim.scene import SceneError

from ..conftest import SAMPLES


def test_floor_point_inverts_the_pinhole_projection():
    intrinsics = np.array([[50.0, 0, 32], [0, 50.0, 32], [0, 0, 1]])
    pose = np.eye(4)
    pose[:3, :3] = [[1, 0, 0], [0, 0, -1], [0, 1, 0]]  # looking along +y, level, +z up
    pose[:3, 3] = [0, -1, 0.5]
    # the point (0.2, 0, 0.25): 1 m ahead, 0.2 m right, 0.25 m below -> 10 px right, 12.5 px down
    seen = np.array([32 + 10 - 0.5, 32 + 12.5 - 0.5])
    assert np.allclose(floor_point(seen, intrinsics, pose, 0.25), [0.2, 0.0])


def test_locator_finds_the_object_in_a_true_frame():
    errors = []
    for seed in range(3):
        ep = episode(20_000 + seed)
        goal = push_goal(ep)
        frames, _ = ep.render(1)
        where, seen = locate(frames, goal.colour, goal.intrinsics, goal.world_from_camera, goal.height)
        assert seen[0]
        errors.append(np.linalg.norm(where[0] - ep.object_xy()))
    assert np.median(errors) < 0.12


def test_cem_finds_the_minimum_of_a_bowl():
    target = np.array([[0.3, -0.2], [0.1, 0.4]])
    settings = CEMSettings(horizon=2, samples=32, iterations=5, elites=6)
    best = cem(lambda plans: ((plans - target) ** 2).sum(axis=(1, 2)), settings, np.random.default_rng(0))
    assert np.abs(best - target).max() < 0.12


@pytest.mark.parametrize("bad, message", [(dict(horizon=3), "horizon"), (dict(elites=9), "elites")])
def test_cem_settings_are_checked(bad, message):
    with pytest.raises(ValueError, match=message):
        CEMSettings(**bad)


def test_oracle_pushes_the_object_home():
    oracle = [run_episode(episode(10_000 + s), "oracle") for s in range(3)]
    assert sum(o.success for o in oracle) >= 2
    assert all(o.success == (o.distance <= SUCCESS_RADIUS) for o in oracle)
    assert all(o.distance < o.start_distance for o in oracle)


def test_an_episode_records_every_frame_and_action():
    moved = run_episode(episode(10_000), "random", chunks=3)
    assert moved.video.shape == (1 + 3 * CHUNK, 64, 64, 3) and moved.actions.shape == (3 * CHUNK, 3)
    assert np.abs(moved.actions).max() > 0


def test_push_task_needs_one_pusher_and_a_known_object():
    with pytest.raises(SceneError, match="exactly one kinematic body"):
        load_episode(SAMPLES / "scenes" / "box_stack.usda")
    with pytest.raises(SceneError, match="no dynamic body /World/nothing"):
        load_episode(SAMPLES / "scenes" / "pusher.usda", target="/World/nothing")


def test_planning_with_the_simulator_as_the_model_moves_the_cube():
    settings = CEMSettings(samples=4, iterations=1, elites=2)
    done = run_episode(episode(50_002), "simulator", settings=settings, chunks=3)
    assert done.actions.shape == (3 * CHUNK, 3) and done.distance < done.start_distance


def test_mpc_without_a_model_is_refused():
    with pytest.raises(ValueError, match="needs the action-conditioned world model"):
        run_episode(episode(10_000), "mpc", chunks=1)


def test_mpc_node_runs_an_episode_in_a_graph(tmp_path):
    from worldgraph.nodes import Executor, Graph

    g = Graph("/G")
    g.add_node("scenes", "worldgraph.scene.Randomize",
               values={"count": 1, "max_objects": 1, "shapes": "cube", "starts": "rest", "camera_motions": "static",
                       "pusher": True, "pusher_mode": "explore"})
    g.add_node("mpc", "worldgraph.plan.MPC", values={"policy": "oracle", "chunks": 2, "goal_right": 0.15})
    g.connect("scenes", "scene", "mpc", "scene")
    result = Executor().run(g, tmp_path)
    assert result.status == "ok", result.failures
    out = result.outputs["/G/mpc"]
    assert out["video"].frames.shape[0] == 1 + 2 * CHUNK and out["actions"].values.shape == (2 * CHUNK, 3)
    assert isinstance(out["success"], bool) and out["distance"] >= 0


def test_the_planner_knows_where_its_pusher_is():
    from worldgraph.engines.plan.run import pusher_pose

    ep = episode(50_001)
    ep.step(np.tile([0.4, 0.0, 0.0], (4, 1)), push_goal(ep).world_from_camera)
    pose = pusher_pose(ep, 5)
    assert pose.corners.shape == (8, 3) and np.allclose(pose.corners.mean(axis=0)[:2], ep.pusher_xy())
    assert np.allclose(pose.corners[:, 2].min(), 0, atol=1e-6) and pose.corners[:, 2].max() > 0.1  # on the floor
    assert np.allclose(pose.past[-1], 0) and np.linalg.norm(pose.past[0]) > 0.05  # it moved 10 cm to get here
