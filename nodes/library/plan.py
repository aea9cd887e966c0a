"""worldgraph.plan: planning with the world model (model-predictive control)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import ACTIONS, BOOL, ENUM, FLOAT, INT, SCENE, STRING, VIDEO, Actions, Scene, Video


@node(
    "worldgraph.plan.MPC",
    inputs=[
        Input("scene", SCENE, doc="a scene with one kinematic pusher (Randomize with pusher on, or a USD file)"),
        Input("index", INT, 0, "which scene of the set", range=(0, None)),
        Input("object", STRING, "", "prim path of the object to push; empty: the first dynamic body"),
        Input("goal_right", FLOAT, 0.2, "goal: metres to the right of the object's start, as the camera sees it",
              range=(-1, 1)),
        Input("goal_forward", FLOAT, 0.0, "goal: metres away from the camera from the object's start",
              range=(-1, 1)),
        Input("policy", ENUM, "mpc", "mpc: plan with the action-conditioned world model; simulator: plan the "
              "same way with the simulator as the model; random: random moves; oracle: a script that reads the "
              "true state", choices=("mpc", "simulator", "random", "oracle")),
        Input("chunks", INT, 10, "planning steps; each does 4 frames of actions", range=(1, 16)),
        Input("horizon", INT, 1, "chunks looked ahead in each plan", range=(1, 2)),
        Input("samples", INT, 8, "action sequences the cross-entropy method tries per iteration", range=(2, 64)),
        Input("iterations", INT, 2, "cross-entropy iterations per step", range=(1, 8)),
        Input("sampler_steps", INT, 4, "Euler steps per predicted latent frame", range=(1, 50)),
        Input("seed", INT, -1, "planning seed; -1 derives one from the graph seed and this node",
              range=(-1, 2**31 - 1)),
    ],
    outputs=[
        Output("video", VIDEO, "the episode as simulated, real style, the goal region drawn in yellow"),
        Output("actions", ACTIONS, "the pusher's velocities done, per frame, world axes (m/s)"),
        Output("distance", FLOAT, "metres between the object and the goal at the end"),
        Output("success", BOOL, "whether the object ended within 8 cm of the goal"),
    ],
    seeded=True,
)
def MPC(
    ctx: Context, scene: Scene, index: int, object: str, goal_right: float, goal_forward: float, policy: str,
    chunks: int, horizon: int, samples: int, iterations: int, sampler_steps: int, seed: int,
) -> dict[str, Any]:
    """Push an object to a goal: sample action sequences (CEM), roll each out with the
    action-conditioned world model, do the best first move in the simulator, repeat."""
    from worldgraph.engines.plan.locate import mark_goal
    from worldgraph.engines.plan.mpc import CEMSettings
    from worldgraph.engines.plan.push import SUCCESS_RADIUS, load_episode
    from worldgraph.engines.plan.run import run_episode
    from worldgraph.engines.post.action_api import load_action_model
    from worldgraph.engines.post.actions import ActionInputError, to_world
    from worldgraph.engines.sim.scene import SceneError
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.engines.wfm.api import WFMInputError

    if index >= len(scene.scenes):
        raise NodeError(f"index {index}: the scene set has {len(scene.scenes)} scenes")
    try:
        settings = CEMSettings(horizon=horizon, samples=samples, iterations=iterations,
                               elites=max(1, samples // 3), sampler_steps=sampler_steps,
                               seed=ctx.seed % 2**31 if seed < 0 else seed)
        model = load_action_model() if policy == "mpc" else None
        with tempfile.TemporaryDirectory() as work:
            file, scene_seed = scene.scenes.scene(index, Path(work))
            ep = load_episode(file, scene_seed, object)
        _, first = ep.render(1)
        ep.goal = ep.object_xy() + to_world(np.array([[goal_right, goal_forward, 0.0]]), first.extrinsics[0])[0, :2]
        outcome = run_episode(ep, policy, model, settings, chunks, progress=ctx.progress)
    except (SceneError, CheckpointError, WFMInputError, ActionInputError, ValueError) as e:
        raise NodeError(str(e)) from None
    video = mark_goal(outcome.video, ep.goal, first.intrinsics, first.extrinsics[0], SUCCESS_RADIUS)
    return {"video": Video(video, 16.0), "actions": Actions(outcome.actions.astype(np.float32)),
            "distance": outcome.distance, "success": outcome.success}
