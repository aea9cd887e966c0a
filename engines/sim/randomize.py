"""Seeded domain randomization: a new USD physics scene per seed.

Objects (count, shape, size, mass, friction, restitution, colour, texture), how they start
(drop, throw, roll, collide, topple), the floor, the lights and the camera (pose and
motion) are all drawn from one ``numpy`` generator, so a seed is a scene. The result is a
plain UsdPhysics stage: it loads, simulates and exports like a hand-authored one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .captions import PALETTE
from .scene import MOTION_AMOUNT_ATTR, MOTION_ATTR, TEXTURE_ATTR, VELOCITIES_ATTR, VELOCITY_RATE_ATTR

SHAPES = ("sphere", "cube", "cylinder", "capsule")
STARTS = ("drop", "throw", "roll", "collide", "topple")  # drawn from by default
ALL_STARTS = (*STARTS, "rest")  # rest: still until something (the pusher) moves it
PUSHER_MODES = ("push", "explore")
CAMERA_MOTIONS = ("static", "orbit", "dolly", "pan")
FLOOR_COLOURS = ((0.55, 0.55, 0.55), (0.62, 0.5, 0.36), (0.45, 0.36, 0.28), (0.7, 0.68, 0.62),
                 (0.4, 0.45, 0.4), (0.35, 0.38, 0.45))  # muted: concrete, wood, slate, ...


@dataclass(frozen=True)
class RandomizeConfig:
    min_objects: int = 1
    max_objects: int = 4
    shapes: tuple[str, ...] = SHAPES
    starts: tuple[str, ...] = STARTS
    size: tuple[float, float] = (0.15, 0.32)  # full extent, metres: 10%+ of the frame
    camera_motions: tuple[str, ...] = CAMERA_MOTIONS
    camera_distance: tuple[float, float] = (0.9, 1.3)
    pusher: bool = False  # a kinematic pusher driven by an action sequence
    # push: one straight shove from the edge; explore: random 4-frame moves near an object,
    # the action-conditioned world model's training data
    pusher_mode: str = "push"

    def __post_init__(self) -> None:
        if not 1 <= self.min_objects <= self.max_objects <= 12:
            raise ValueError(f"object counts must satisfy 1 <= min <= max <= 12, got "
                             f"{self.min_objects}..{self.max_objects}")
        if self.pusher_mode not in PUSHER_MODES:
            raise ValueError(f"pusher mode {self.pusher_mode!r} is not one of {', '.join(PUSHER_MODES)}")
        for name, chosen, allowed in (("shape", self.shapes, SHAPES), ("start", self.starts, ALL_STARTS),
                                      ("camera motion", self.camera_motions, CAMERA_MOTIONS)):
            bad = set(chosen) - set(allowed)
            if not chosen or bad:
                raise ValueError(f"{name}s must be among {', '.join(allowed)}, got {', '.join(chosen)}")


@dataclass
class _Object:
    name: str
    shape: str
    extent: float
    pos: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    spin: np.ndarray = field(default_factory=lambda: np.zeros(3))  # degrees / s
    tilt: float = 0.0  # degrees about x, for topples


def random_scene(path: Path, seed: int, config: RandomizeConfig = RandomizeConfig()) -> Path:
    """Write the scene for ``seed`` to ``path`` (.usda) and return it."""
    from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics

    rng = np.random.default_rng(seed)
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    UsdPhysics.Scene.Define(stage, "/World/physicsScene")

    floor = UsdGeom.Plane.Define(stage, "/World/floor")
    floor.CreateAxisAttr("Z")
    floor.CreateWidthAttr(6.0)
    floor.CreateLengthAttr(6.0)
    floor.CreateDisplayColorAttr([_jitter(rng, FLOOR_COLOURS[int(rng.integers(len(FLOOR_COLOURS)))])])
    floor.GetPrim().CreateAttribute(TEXTURE_ATTR, Sdf.ValueTypeNames.Token).Set(
        str(rng.choice(["checker", "checker", "gradient", "noise"]))
    )
    UsdPhysics.CollisionAPI.Apply(floor.GetPrim())
    _material(stage, floor.GetPrim(), "/World/floorMaterial", rng)

    objects = _place_objects(rng, config)
    for obj in objects:
        prim = _define_shape(stage, obj, rng)
        UsdPhysics.RigidBodyAPI.Apply(prim)
        UsdPhysics.CollisionAPI.Apply(prim)
        mass = UsdPhysics.MassAPI.Apply(prim)
        mass.CreateMassAttr(float(rng.uniform(0.3, 3.0) * (obj.extent / 0.2) ** 3))
        body = UsdPhysics.RigidBodyAPI(prim)
        body.CreateVelocityAttr(Gf.Vec3f(*obj.velocity.tolist()))
        body.CreateAngularVelocityAttr(Gf.Vec3f(*obj.spin.tolist()))
        _material(stage, prim, f"/World/{obj.name}Material", rng)

    if config.pusher and config.pusher_mode == "explore":
        _add_explorer(stage, rng, objects)
    elif config.pusher:
        _add_pusher(stage, rng)
    _add_lights(stage, rng)
    _add_camera(stage, rng, config, np.mean([o.pos for o in objects], axis=0))
    path.parent.mkdir(parents=True, exist_ok=True)
    stage.GetRootLayer().Export(str(path))
    return path


def _place_objects(rng: np.random.Generator, config: RandomizeConfig) -> list[_Object]:
    count = int(rng.integers(config.min_objects, config.max_objects + 1))
    objects: list[_Object] = []
    for i in range(count):
        shape = str(rng.choice(config.shapes))
        extent = float(rng.uniform(*config.size))
        start = str(rng.choice(config.starts))
        for _ in range(50):  # find a spot clear of the others
            xy = rng.uniform(-0.35, 0.35, 2)
            if all(np.linalg.norm(xy - o.pos[:2]) > (extent + o.extent) / 2 + 0.02 for o in objects):
                break
        obj = _Object(f"object{i}", shape, extent, np.array([*xy, extent / 2 + 0.002]))
        if start == "drop":
            obj.pos[2] += rng.uniform(0.2, 0.6)
            obj.spin = rng.normal(0, 60, 3)
        elif start == "throw":
            obj.pos[2] += rng.uniform(0.1, 0.4)
            towards = -obj.pos[:2] / (np.linalg.norm(obj.pos[:2]) + 1e-6)
            obj.velocity = np.array([*(towards * rng.uniform(0.6, 1.4)), rng.uniform(0.5, 1.5)])
            obj.spin = rng.normal(0, 200, 3)
        elif start in ("roll", "collide"):
            heading = rng.uniform(0, 2 * math.pi)
            if start == "collide" and objects:
                heading = math.atan2(*(objects[-1].pos[:2] - obj.pos[:2])[::-1])
            obj.velocity = np.array([math.cos(heading), math.sin(heading), 0.0]) * rng.uniform(0.5, 1.3)
        elif start == "topple":
            obj.tilt = float(rng.uniform(15, 35)) * rng.choice([-1, 1])
            obj.pos[2] += extent * 0.15
        objects.append(obj)
    return objects


def _define_shape(stage, obj: _Object, rng: np.random.Generator):
    from pxr import Gf, Sdf, UsdGeom

    path, r = f"/World/{obj.name}", obj.extent / 2
    if obj.shape == "sphere":
        gprim = UsdGeom.Sphere.Define(stage, path)
        gprim.CreateRadiusAttr(r)
    elif obj.shape == "cube":
        gprim = UsdGeom.Cube.Define(stage, path)
        gprim.CreateSizeAttr(obj.extent)
    elif obj.shape == "cylinder":
        gprim = UsdGeom.Cylinder.Define(stage, path)
        gprim.CreateRadiusAttr(r * 0.7)
        gprim.CreateHeightAttr(obj.extent)
    else:
        gprim = UsdGeom.Capsule.Define(stage, path)
        gprim.CreateRadiusAttr(r * 0.5)
        gprim.CreateHeightAttr(obj.extent * 0.5)
    xform = UsdGeom.XformCommonAPI(gprim)
    xform.SetTranslate(Gf.Vec3d(*obj.pos.tolist()))
    xform.SetRotate(Gf.Vec3f(obj.tilt, 0, float(rng.uniform(0, 360))))
    gprim.CreateDisplayColorAttr([_jitter(rng, _pick_colour(rng))])
    if rng.random() < 0.3:
        gprim.GetPrim().CreateAttribute(TEXTURE_ATTR, Sdf.ValueTypeNames.Token).Set(
            str(rng.choice(["checker", "noise"]))
        )
    return gprim.GetPrim()


def _material(stage, prim, path: str, rng: np.random.Generator) -> None:
    from pxr import UsdPhysics, UsdShade

    material = UsdShade.Material.Define(stage, path)
    api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
    api.CreateDynamicFrictionAttr(float(rng.uniform(0.3, 1.0)))
    api.CreateStaticFrictionAttr(float(rng.uniform(0.5, 1.1)))
    api.CreateRestitutionAttr(float(rng.choice([0.0, rng.uniform(0.1, 0.7)])))
    binding = UsdShade.MaterialBindingAPI.Apply(prim)
    binding.Bind(material, UsdShade.Tokens.weakerThanDescendants, "physics")


def _add_pusher(stage, rng: np.random.Generator) -> None:
    """A wide paddle that starts at the edge and shoves through the middle for about a second."""
    heading = rng.uniform(0, 2 * math.pi)
    start = -0.75 * np.array([math.cos(heading), math.sin(heading)])
    speed, rate = rng.uniform(0.6, 1.2), 16.0
    moving = int(rate * rng.uniform(0.5, 0.9))
    push = (float(math.cos(heading) * speed), float(math.sin(heading) * speed), 0.0)
    velocities = [push if f < moving else (0.0, 0.0, 0.0) for f in range(int(rate * 2))]
    _kinematic_box(stage, "/World/pusher", start, (1.0, 3.0, 1.6), heading, velocities, rate)


EXPLORE_RATE = 16.0  # one velocity per frame at the default 16 fps
EXPLORE_CHUNK = 4  # frames per move: one latent frame of the 4x tokenizers
EXPLORE_REACH = 0.55  # metres from the middle the pusher stays within


def _add_explorer(stage, rng: np.random.Generator, objects: list[_Object]) -> None:
    """A small pusher that starts next to an object and makes random 4-frame moves for 8 s,
    mostly towards that object, sometimes anywhere, sometimes none."""
    target = objects[int(rng.integers(len(objects)))].pos[:2]
    heading = rng.uniform(0, 2 * math.pi)
    pos = target - rng.uniform(0.2, 0.32) * np.array([math.cos(heading), math.sin(heading)])
    start = pos.copy()
    velocities = []
    for _ in range(int(EXPLORE_RATE * 8) // EXPLORE_CHUNK):
        towards = target - pos
        angle = math.atan2(towards[1], towards[0]) + rng.normal(0, 0.45)
        if rng.random() < 0.35:
            angle = rng.uniform(0, 2 * math.pi)
        speed = 0.0 if rng.random() < 0.12 else rng.uniform(0.15, 0.9)
        v = speed * np.array([math.cos(angle), math.sin(angle)])
        ahead = pos + v * EXPLORE_CHUNK / EXPLORE_RATE
        if np.linalg.norm(ahead) > EXPLORE_REACH:  # turn back towards the middle
            v = -speed * pos / (np.linalg.norm(pos) + 1e-6)
        pos = pos + v * EXPLORE_CHUNK / EXPLORE_RATE
        velocities += [v] * EXPLORE_CHUNK
    _kinematic_box(stage, "/World/pusher", start, (1.0, 1.0, 1.6), heading,
                   [(float(v[0]), float(v[1]), 0.0) for v in velocities], EXPLORE_RATE)


def _kinematic_box(stage, path: str, xy: np.ndarray, scale: tuple[float, float, float], heading: float,
                   velocities: list[tuple[float, float, float]], rate: float) -> None:
    from pxr import Gf, Sdf, UsdGeom, UsdPhysics

    box = UsdGeom.Cube.Define(stage, path)
    box.CreateSizeAttr(0.1)
    xform = UsdGeom.XformCommonAPI(box)
    xform.SetTranslate(Gf.Vec3d(float(xy[0]), float(xy[1]), 0.05 * scale[2]))
    xform.SetRotate(Gf.Vec3f(0, 0, math.degrees(heading)))
    xform.SetScale(Gf.Vec3f(*scale))
    box.CreateDisplayColorAttr([Gf.Vec3f(0.85, 0.85, 0.85)])
    prim = box.GetPrim()
    UsdPhysics.RigidBodyAPI.Apply(prim).CreateKinematicEnabledAttr(True)
    UsdPhysics.CollisionAPI.Apply(prim)
    prim.CreateAttribute(VELOCITIES_ATTR, Sdf.ValueTypeNames.Vector3fArray).Set([Gf.Vec3f(*v) for v in velocities])
    prim.CreateAttribute(VELOCITY_RATE_ATTR, Sdf.ValueTypeNames.Double).Set(rate)


def _add_lights(stage, rng: np.random.Generator) -> None:
    from pxr import Gf, UsdGeom, UsdLux

    sun = UsdLux.DistantLight.Define(stage, "/World/sun")
    sun.CreateIntensityAttr(float(rng.uniform(1500, 4000)))
    warmth = rng.uniform(-0.1, 0.1)
    sun.CreateColorAttr(Gf.Vec3f(1.0, 1.0 - abs(warmth) / 2, 1.0 - warmth))
    UsdGeom.XformCommonAPI(sun).SetRotate(Gf.Vec3f(float(rng.uniform(10, 50)), 0, float(rng.uniform(0, 360))))
    fill = UsdLux.SphereLight.Define(stage, "/World/fill")
    fill.CreateIntensityAttr(float(rng.uniform(300, 1200)))
    UsdGeom.XformCommonAPI(fill).SetTranslate(Gf.Vec3d(*rng.uniform([-2, -2, 1.5], [2, 2, 3]).tolist()))


def _add_camera(stage, rng: np.random.Generator, config: RandomizeConfig, target: np.ndarray) -> None:
    from pxr import Gf, Sdf, UsdGeom

    distance = rng.uniform(*config.camera_distance)
    elevation, azimuth = math.radians(rng.uniform(20, 50)), rng.uniform(0, 2 * math.pi)
    look = Gf.Vec3d(float(target[0]) / 2, float(target[1]) / 2, 0.1)  # between objects and middle
    eye = look + Gf.Vec3d(distance * math.cos(elevation) * math.cos(azimuth),
                          distance * math.cos(elevation) * math.sin(azimuth),
                          distance * math.sin(elevation))
    camera = UsdGeom.Camera.Define(stage, "/World/camera")
    camera.CreateFocalLengthAttr(18.0)
    camera.CreateVerticalApertureAttr(15.2908)
    camera.CreateHorizontalApertureAttr(15.2908)
    view = Gf.Matrix4d().SetLookAt(eye, look, Gf.Vec3d(0, 0, 1)).GetInverse()
    camera.MakeMatrixXform().Set(view)
    motion = str(rng.choice(config.camera_motions))
    amount = {"static": 0.0, "orbit": rng.uniform(20, 60), "dolly": rng.uniform(0.15, 0.35),
              "pan": rng.uniform(8, 20)}[motion] * rng.choice([-1, 1])
    camera.GetPrim().CreateAttribute(MOTION_ATTR, Sdf.ValueTypeNames.Token).Set(motion)
    camera.GetPrim().CreateAttribute(MOTION_AMOUNT_ATTR, Sdf.ValueTypeNames.Double).Set(float(amount))


def _pick_colour(rng: np.random.Generator) -> tuple[float, float, float]:
    return PALETTE[str(rng.choice(list(PALETTE)))]


def _jitter(rng: np.random.Generator, rgb: tuple[float, float, float]):
    from pxr import Gf

    return Gf.Vec3f(*np.clip(np.array(rgb) + rng.normal(0, 0.04, 3), 0, 1).tolist())
