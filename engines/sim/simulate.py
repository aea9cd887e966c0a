"""Stepping a scene: a fixed frame rate with substeps, kinematic bodies driven by actions,
a camera rig that moves on its own path, and divergence caught and named by body."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .scene import CameraSpec, SceneError, SceneModel

CAMERA_RIG = "worldgraph:camera_rig"
RENDER_CAMERA = "worldgraph:camera"
CAMERA_MOTIONS = ("static", "orbit", "dolly", "pan")
MAX_LINEAR_SPEED = 50.0  # m/s: faster means the solver has blown up
MAX_ANGULAR_SPEED = 2000.0  # rad/s


class SimulationDiverged(SceneError):
    """The physics blew up (NaN or runaway velocities); the message names the body."""


@dataclass(frozen=True)
class CameraMotion:
    kind: str = "static"  # static | orbit | dolly | pan
    amount: float = 0.0  # orbit / pan: degrees over the clip; dolly: fraction of the distance

    def __post_init__(self) -> None:
        if self.kind not in CAMERA_MOTIONS:
            raise ValueError(f"camera motion {self.kind!r} is not one of {', '.join(CAMERA_MOTIONS)}")


@dataclass
class Trajectory:
    """Every substep's state, so renders can add motion blur; [:, 0] is the frame instant."""

    fps: float
    qpos: np.ndarray  # [T, S, nq]
    mocap_pos: np.ndarray  # [T, S, nmocap, 3]
    mocap_quat: np.ndarray  # [T, S, nmocap, 4]
    body_pos: np.ndarray  # [T, nbody, 3] world positions at frame instants
    body_quat: np.ndarray  # [T, nbody, 4] w x y z
    actions: np.ndarray  # [T, 3 * kinematic bodies] velocities (m/s); [T, 0] when none
    hits: dict[str, str]  # body -> the first other body it touched

    @property
    def frames(self) -> int:
        return int(self.qpos.shape[0])


def build_model(scene: SceneModel, camera: CameraSpec | None = None) -> Any:
    """Compile the scene with a mocap camera rig (the render camera) added."""
    spec = scene.spec.copy()
    pose = camera or default_camera(scene)
    rig = spec.worldbody.add_body(name=CAMERA_RIG, mocap=True, pos=pose.pos, quat=pose.quat)
    rig.add_camera(name=RENDER_CAMERA, fovy=pose.fovy)
    try:
        return spec.compile()
    except ValueError as e:
        raise SceneError(f"{scene.file}: MuJoCo cannot compile it: {e}") from None


def default_camera(scene: SceneModel) -> CameraSpec:
    """Three-quarter view from the front, far enough to frame the objects."""
    fovy = 45.0
    distance = max(scene.radius, 0.3) / math.tan(math.radians(fovy / 2)) * 1.1
    direction = np.array([0.0, -math.cos(math.radians(35)), math.sin(math.radians(35))])
    pos = scene.centre + direction * distance
    return CameraSpec("default", pos, look_at(pos, scene.centre), fovy)


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """w-x-y-z quaternion of a camera at ``eye`` looking at ``target`` with world +Z up."""
    back = eye - target
    back = back / np.linalg.norm(back)
    right = np.cross([0.0, 0.0, 1.0], back)
    if np.linalg.norm(right) < 1e-6:  # looking straight down or up
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    return matrix_to_quat(np.stack([right, up, back], axis=1))


def matrix_to_quat(r: np.ndarray) -> np.ndarray:
    import mujoco

    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, r.reshape(-1).astype(np.float64))
    return q


def camera_path(
    start: CameraSpec, centre: np.ndarray, motion: CameraMotion, frames: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Camera (position, quaternion) per frame."""
    poses = []
    for t in np.linspace(0.0, 1.0, frames):
        pos, quat = start.pos.copy(), start.quat.copy()
        if motion.kind == "orbit":
            a = math.radians(motion.amount * t)
            offset = start.pos - centre
            rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
            pos = centre + rot @ offset
            quat = look_at(pos, centre)
        elif motion.kind == "dolly":
            pos = start.pos + (centre - start.pos) * motion.amount * t
        elif motion.kind == "pan":
            a = math.radians(motion.amount * t) / 2
            quat = _quat_mul(np.array([math.cos(a), 0, 0, math.sin(a)]), start.quat)
        poses.append((pos, quat))
    return poses


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ])


def simulate(
    scene: SceneModel,
    model: Any,
    frames: int,
    fps: float,
    substeps: int = 8,
    actions: np.ndarray | None = None,
    motion: CameraMotion | None = None,
) -> Trajectory:
    """Run ``frames`` frames at ``fps`` of a model from ``build_model``; ``actions`` [T, 3K]
    are the kinematic bodies' velocities (m/s), one row per frame; the camera starts where
    the model's rig is and follows ``motion``."""
    import mujoco

    kinematic = [b.path for b in scene.bodies if b.kinematic]
    if actions is None:
        actions = scripted_actions(scene, frames, fps)
    if actions.shape != (frames, 3 * len(kinematic)):
        raise SceneError(
            f"{scene.file}: actions must be [{frames}, {3 * len(kinematic)}] (a velocity per frame for "
            f"each kinematic body: {', '.join(kinematic) or 'none'}), got {list(actions.shape)}"
        )
    model.opt.timestep = 1.0 / (fps * substeps)
    data = mujoco.MjData(model)
    _set_initial_velocities(scene, model, data)
    mocap_of = {name: int(model.body(name).mocapid[0]) for name in kinematic}
    rig_body = model.body(CAMERA_RIG)
    rig = int(rig_body.mocapid[0])
    start = CameraSpec(CAMERA_RIG, model.body_pos[rig_body.id].copy(), model.body_quat[rig_body.id].copy(),
                       float(model.cam_fovy[model.camera(RENDER_CAMERA).id]))
    path = camera_path(start, scene.centre, motion or CameraMotion(), frames)

    nq, nm, nb = model.nq, model.nmocap, model.nbody
    qpos = np.zeros((frames, substeps, nq))
    mocap_pos = np.zeros((frames, substeps, nm, 3))
    mocap_quat = np.zeros((frames, substeps, nm, 4))
    body_pos = np.zeros((frames, nb, 3))
    body_quat = np.zeros((frames, nb, 4))
    body_of_geom = model.geom_bodyid
    hits: dict[str, str] = {}
    mujoco.mj_forward(model, data)
    for t in range(frames):
        data.mocap_pos[rig], data.mocap_quat[rig] = path[t]
        for s in range(substeps):
            if s == 0:
                mujoco.mj_kinematics(model, data)
                body_pos[t], body_quat[t] = data.xpos, data.xquat
            qpos[t, s], mocap_pos[t, s], mocap_quat[t, s] = data.qpos, data.mocap_pos, data.mocap_quat
            for k, name in enumerate(kinematic):
                data.mocap_pos[mocap_of[name]] += actions[t, 3 * k : 3 * k + 3] * model.opt.timestep
            mujoco.mj_step(model, data)
            _record_hits(model, data, body_of_geom, hits)
        _check_divergence(scene, model, data, t, fps)
    return Trajectory(fps, qpos, mocap_pos, mocap_quat, body_pos, body_quat, actions, hits)


def scripted_actions(scene: SceneModel, frames: int, fps: float) -> np.ndarray:
    """[T, 3K] from the velocities authored on the kinematic bodies, read at each frame's
    time (zero past their end)."""
    kinematic = [b.path for b in scene.bodies if b.kinematic]
    actions = np.zeros((frames, 3 * len(kinematic)))
    for k, path in enumerate(kinematic):
        if path in scene.actions:
            series, rate = scene.actions[path]
            index = (np.arange(frames) / fps * rate).astype(int)
            inside = index < len(series)
            actions[inside, 3 * k : 3 * k + 3] = series[index[inside]]
    return actions


def _record_hits(model: Any, data: Any, body_of_geom: np.ndarray, hits: dict[str, str]) -> None:
    """Remember, for each body, the first other (non-world) body it touches."""
    if data.ncon == 0:
        return
    for g1, g2 in data.contact.geom[: data.ncon]:
        b1, b2 = int(body_of_geom[g1]), int(body_of_geom[g2])
        if b1 and b2 and b1 != b2:
            n1, n2 = model.body(b1).name, model.body(b2).name
            hits.setdefault(n1, n2)
            hits.setdefault(n2, n1)


def _set_initial_velocities(scene: SceneModel, model: Any, data: Any) -> None:
    import mujoco

    for path, (lin, ang) in scene.velocities.items():
        body = model.body(path)
        if body.jntnum[0] == 0 or model.jnt_type[body.jntadr[0]] != mujoco.mjtJoint.mjJNT_FREE:
            continue
        dof = int(model.jnt_dofadr[body.jntadr[0]])
        quat = data.qpos[model.jnt_qposadr[body.jntadr[0]] + 3 : model.jnt_qposadr[body.jntadr[0]] + 7]
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, quat)
        data.qvel[dof : dof + 3] = lin
        data.qvel[dof + 3 : dof + 6] = rot.reshape(3, 3).T @ ang  # free joints spin in the body frame


def _check_divergence(scene: SceneModel, model: Any, data: Any, frame: int, fps: float) -> None:
    import mujoco

    bad_acc = data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number > 0
    finite = np.isfinite(data.qpos).all() and np.isfinite(data.qvel).all()
    if finite and not bad_acc:
        speeds = np.abs(data.qvel)
        limits = np.where(_is_angular(model), MAX_ANGULAR_SPEED, MAX_LINEAR_SPEED)
        if (speeds <= limits).all():
            return
    worst = int(np.nanargmax(np.where(np.isfinite(data.qvel), np.abs(data.qvel), np.inf)))
    body = model.body(int(model.dof_bodyid[worst])).name
    raise SimulationDiverged(
        f"{scene.file}: the simulation diverged at frame {frame} ({frame / fps:.2f} s): body {body} "
        f"reached {'non-finite' if not finite else f'{abs(data.qvel[worst]):.3g}'} velocity; "
        f"check its mass, size and initial velocity, or raise the substeps"
    )


def _is_angular(model: Any) -> np.ndarray:
    """Which degrees of freedom are rotations (free joints: the last 3 of 6; hinges; balls)."""
    import mujoco

    angular = np.zeros(model.nv, bool)
    for j in range(model.njnt):
        adr, kind = model.jnt_dofadr[j], model.jnt_type[j]
        if kind == mujoco.mjtJoint.mjJNT_FREE:
            angular[adr + 3 : adr + 6] = True
        elif kind in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_BALL):
            angular[adr : adr + (3 if kind == mujoco.mjtJoint.mjJNT_BALL else 1)] = True
    return angular
