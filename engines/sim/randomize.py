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
STARTS = ("drop", "throw", "roll", "collide", "topple")
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

    def __post_init__(self) -> None:
        if not 1 <= self.min_objects <= self.max_objects <= 12:
            raise ValueError(f"object counts must satisfy 1 <= min <= max <= 12, got "
                             f"{self.min_objects}..{self.max_objects}")
        for name, chosen, allowed in (("shape", self.shapes, SHAPES), ("start", self.starts, STARTS),
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

    if config.pusher:
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
    from pxr import Gf, Sdf, UsdGeom, UsdPhysics

    heading = rng.uniform(0, 2 * math.pi)
    start = -0.75 * np.array([math.cos(heading), math.sin(heading)])
    pusher = UsdGeom.Cube.Define(stage, "/World/pusher")
    pusher.CreateSizeAttr(0.1)
    xform = UsdGeom.XformCommonAPI(pusher)
    xform.SetTranslate(Gf.Vec3d(float(start[0]), float(start[1]), 0.08))
    xform.SetRotate(Gf.Vec3f(0, 0, math.degrees(heading)))
    xform.SetScale(Gf.Vec3f(1.0, 3.0, 1.6))
    pusher.CreateDisplayColorAttr([Gf.Vec3f(0.85, 0.85, 0.85)])
    prim = pusher.GetPrim()
    UsdPhysics.RigidBodyAPI.Apply(prim).CreateKinematicEnabledAttr(True)
    UsdPhysics.CollisionAPI.Apply(prim)
    speed, rate = rng.uniform(0.6, 1.2), 16.0
    moving = int(rate * rng.uniform(0.5, 0.9))  # pushes for about the first second
    velocities = [
        Gf.Vec3f(float(math.cos(heading) * speed), float(math.sin(heading) * speed), 0.0)
        if f < moving else Gf.Vec3f(0, 0, 0)
        for f in range(int(rate * 2))
    ]
    prim.CreateAttribute(VELOCITIES_ATTR, Sdf.ValueTypeNames.Vector3fArray).Set(velocities)
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
