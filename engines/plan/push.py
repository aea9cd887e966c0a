"""The push task: a pusher must shove one object into a target region on the floor.

An episode is a seeded scene (one resting cube: upright cylinders topple and roll away, a pusher beside it, a static
camera) and a goal: a floor point 15-25 cm from the object, roughly on the far side of it
from the pusher. The simulator is the ground truth: an episode is stepped one action chunk
(4 frames, one latent frame) at a time by re-simulating its whole action history (MuJoCo is
deterministic, and the episodes are short), and it succeeds when the object ends within
``SUCCESS_RADIUS`` of the goal.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..post.actions import CHUNK, to_world
from ..sim.randomize import RandomizeConfig, random_scene
from ..sim.render import render_clip
from ..sim.scene import SceneError, SceneModel, load_scene
from ..sim.simulate import SimulationDiverged, Trajectory, build_model, simulate

FPS = 16.0
SUBSTEPS = 16  # twice the datasets': a kinematic pusher driven into a box needs the finer steps
CHUNKS = 10  # chunks an episode may use: 2.5 s
SUCCESS_RADIUS = 0.08  # metres
MAX_SPEED = 0.9  # m/s, as in the training data
SCENES = RandomizeConfig(min_objects=1, max_objects=1, shapes=("cube",), starts=("rest",),
                         camera_motions=("static",), pusher=True, pusher_mode="explore")


@dataclass
class Episode:
    """One push task, stepped in the simulator."""

    seed: int
    scene: SceneModel
    model: Any  # the compiled MuJoCo model with the scene's camera
    goal: np.ndarray  # floor point (x, y), metres
    target: str  # the object's prim path
    pusher: str  # the kinematic body the actions drive
    actions: list[np.ndarray] = field(default_factory=list)  # world-axis velocities [3] per frame done
    width: int = 64
    height: int = 64
    _simulated: tuple[int, Trajectory] | None = None

    @property
    def frames(self) -> int:
        return 1 + len(self.actions)

    def trajectory(self) -> Trajectory:
        """Every frame so far (re-simulated only when actions were added)."""
        if self._simulated is None or self._simulated[0] != self.frames:
            done = np.array(self.actions + [np.zeros(3)]).reshape(-1, 3)
            self._simulated = (self.frames, simulate(self.scene, self.model, self.frames, FPS, SUBSTEPS, actions=done))
        return self._simulated[1]

    def step(self, view_chunk: np.ndarray, world_from_camera: np.ndarray) -> bool:
        """Do a chunk of 4 actions [4, 3] given in the camera's ground frame (m/s); False
        (and the chunk undone) when it makes the simulation blow up."""
        chunk = to_world(np.clip(view_chunk, -MAX_SPEED, MAX_SPEED), world_from_camera)
        self.actions += list(chunk[:CHUNK])
        try:
            self.trajectory()
        except SimulationDiverged:
            del self.actions[-CHUNK:]
            return False
        return True

    def render(self, last: int) -> tuple[np.ndarray, Any]:
        """The last ``last`` frames, real style (uint8 [n, H, W, 3]), and the whole render."""
        made = render_clip(self.model, self._tail(self.trajectory(), last), self.width, self.height,
                           styles=("real",), rng=np.random.default_rng(self.seed))
        return made.rgb["real"], made

    def object_xy(self) -> np.ndarray:
        traj = self.trajectory()
        return traj.body_pos[-1, self.model.body(self.target).id, :2]

    def pusher_xy(self) -> np.ndarray:
        traj = self.trajectory()
        return traj.body_pos[-1, self.model.body(self.pusher).id, :2]

    def target_radius(self) -> float:
        return next(b.size for b in self.scene.bodies if b.path == self.target) / 2

    def distance(self) -> float:
        return float(np.linalg.norm(self.object_xy() - self.goal))

    def success(self) -> bool:
        return self.distance() <= SUCCESS_RADIUS

    @staticmethod
    def _tail(traj: Trajectory, n: int) -> Trajectory:
        n = min(n, traj.frames)
        return replace(traj, qpos=traj.qpos[-n:], mocap_pos=traj.mocap_pos[-n:], mocap_quat=traj.mocap_quat[-n:],
                       body_pos=traj.body_pos[-n:], body_quat=traj.body_quat[-n:], actions=traj.actions[-n:])


def load_episode(scene_file: Path, seed: int = 0, target: str = "", width: int = 64, height: int = 64) -> Episode:
    """A push episode on any scene with one kinematic pusher; ``target``: the object to
    push (default: the first dynamic body). The goal is set by the caller."""
    scene = load_scene(scene_file)
    pushers = [b.path for b in scene.bodies if b.kinematic]
    if len(pushers) != 1:
        raise SceneError(f"{scene_file}: the push task needs exactly one kinematic body (the pusher), "
                         f"found {len(pushers)}")
    dynamic = [b.path for b in scene.bodies if not b.kinematic]
    if target and target not in dynamic:
        raise SceneError(f"{scene_file}: no dynamic body {target} to push (bodies: {', '.join(dynamic) or 'none'})")
    if not dynamic:
        raise SceneError(f"{scene_file}: nothing to push (no dynamic rigid body)")
    model = build_model(scene, scene.cameras[0] if scene.cameras else None)
    return Episode(seed, scene, model, np.zeros(2), target or dynamic[0], pushers[0], width=width, height=height)


def episode(seed: int, width: int = 64, height: int = 64) -> Episode:
    """The benchmark's push task of ``seed``: its scene, and a goal on the far side of the object."""
    with tempfile.TemporaryDirectory() as work:
        ep = load_episode(random_scene(Path(work) / "push.usda", seed, SCENES), seed, width=width, height=height)
    rng = np.random.default_rng([seed, 7])
    obj, pusher = ep.object_xy(), ep.pusher_xy()
    away = math.atan2(*(obj - pusher)[::-1]) + rng.uniform(-0.7, 0.7)
    ep.goal = obj + rng.uniform(0.15, 0.25) * np.array([math.cos(away), math.sin(away)])
    return ep


def oracle_chunk(ep: Episode, world_from_camera: np.ndarray) -> np.ndarray:
    """A scripted expert that reads the true state: line up behind the object (seen from
    the goal), then push along the line, steering back onto it. [4, 3] in the camera's
    ground frame."""
    from ..post.actions import to_view

    obj, pusher = ep.object_xy(), ep.pusher_xy()
    to_goal = ep.goal - obj
    direction = to_goal / (np.linalg.norm(to_goal) + 1e-9)
    across = np.array([-direction[1], direction[0]])
    along, lateral = float(np.dot(pusher - obj, direction)), float(np.dot(pusher - obj, across))
    contact = ep.target_radius() + 0.06  # object's half extent + the pusher's half width + a gap
    if np.linalg.norm(to_goal) < 0.03:  # there: hold still
        velocity = np.zeros(2)
    elif along < -contact + 0.03 and abs(lateral) < 0.03:  # lined up behind it: push, steering
        velocity = direction * min(np.linalg.norm(to_goal) / CHUNK * FPS, 0.5) - across * lateral * FPS / CHUNK
    elif along < -contact + 0.03:  # behind but off the line: slide onto it
        velocity = (obj - direction * contact - pusher) * FPS / CHUNK
    else:  # beside or in front: go round, wide of the object
        side = np.sign(lateral) or 1.0
        velocity = (obj + across * side * (contact + 0.05) - direction * contact - pusher) * FPS / CHUNK
    speed = np.linalg.norm(velocity)
    if speed > MAX_SPEED:
        velocity *= MAX_SPEED / speed
    return to_view(np.tile([velocity[0], velocity[1], 0.0], (CHUNK, 1)), world_from_camera)


def random_chunk(rng: np.random.Generator) -> np.ndarray:
    """A move drawn as the training data's are: any heading, 0.15-0.9 m/s. [4, 3]."""
    angle, speed = rng.uniform(0, 2 * math.pi), rng.uniform(0.15, MAX_SPEED)
    return np.tile([speed * math.cos(angle), speed * math.sin(angle), 0.0], (CHUNK, 1))
