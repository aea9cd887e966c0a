"""USD physics scenes into MuJoCo.

``mujoco[usd]`` imports the UsdGeom / UsdPhysics prims (bodies named by prim path, free
joints, joints, colours). What it leaves out is added here from the stage itself:
authored masses, physics materials (friction, restitution, density), initial velocities,
kinematic bodies (as mocap bodies), cameras and lights. Problems MuJoCo would report
deep inside (or not at all) are checked first and named by prim.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SUPPORTED_GPRIMS = ("Sphere", "Cube", "Capsule", "Cylinder", "Plane", "Mesh")
MAX_RENDER_SIZE = 1024  # offscreen buffer: the largest frame a scene can render
TEXTURE_ATTR = "worldgraph:texture"  # procedural texture on a gprim: checker | gradient | noise
VELOCITIES_ATTR = "worldgraph:velocities"  # a kinematic body's velocities (m/s) over time ...
VELOCITY_RATE_ATTR = "worldgraph:velocityRate"  # ... sampled at this many per second
MOTION_ATTR, MOTION_AMOUNT_ATTR = "worldgraph:cameraMotion", "worldgraph:cameraMotionAmount"


class SceneError(Exception):
    """A scene cannot be simulated; the message names the file and the prim."""


@dataclass
class Body:
    """A simulated prim: a MuJoCo body named by the prim path."""

    path: str
    kinematic: bool
    shape: str  # sphere, cube, ... of its first collider: for captions
    color: tuple[float, float, float]
    size: float  # largest extent in metres


@dataclass
class CameraSpec:
    path: str
    pos: np.ndarray  # world position (3,)
    quat: np.ndarray  # world orientation, w x y z; looks down its -Z, +Y up (USD and MuJoCo)
    fovy: float  # vertical field of view, degrees
    motion: str = "static"  # how it moves over a clip: static | orbit | dolly | pan
    motion_amount: float = 0.0  # orbit / pan: degrees; dolly: fraction of the distance


@dataclass
class SceneModel:
    """A loaded scene: the MuJoCo spec plus what the stage says about its prims."""

    file: Path
    spec: Any  # mujoco.MjSpec
    bodies: list[Body]
    cameras: list[CameraSpec]
    bounds: tuple[np.ndarray, np.ndarray]  # min, max corner of the scene's objects
    velocities: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    actions: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)  # body -> ([N, 3] m/s, rate)

    @property
    def centre(self) -> np.ndarray:
        return (self.bounds[0] + self.bounds[1]) / 2

    @property
    def radius(self) -> float:
        return float(np.linalg.norm(self.bounds[1] - self.bounds[0]) / 2)


def load_scene(file: Path) -> SceneModel:
    """Check a USD physics scene and import it into a MuJoCo spec."""
    from pxr import Tf, Usd, UsdGeom, UsdPhysics

    try:
        stage = Usd.Stage.Open(str(file))
    except Tf.ErrorException as e:
        raise SceneError(f"{file}: cannot read as USD ({str(e).strip().splitlines()[-1]})") from None
    if UsdGeom.GetStageUpAxis(stage) != UsdGeom.Tokens.z:
        raise SceneError(f"{file}: scenes must be Z-up (upAxis = \"Z\")")
    if not math.isclose(UsdGeom.GetStageMetersPerUnit(stage), 1.0):
        raise SceneError(f"{file}: scenes must be in metres (metersPerUnit = 1)")
    prims = list(stage.Traverse())
    if not any(p.IsA(UsdPhysics.Scene) for p in prims):
        raise SceneError(f'{file}: no PhysicsScene prim; add `def PhysicsScene "physicsScene" {{}}`')

    bodies = [_check_body(file, p) for p in prims if p.HasAPI(UsdPhysics.RigidBodyAPI)]
    for p in prims:
        if p.HasAPI(UsdPhysics.CollisionAPI) and p.GetTypeName() not in SUPPORTED_GPRIMS:
            raise SceneError(_unsupported(file, p))
        _check_texture(file, p)
    bounds = _bounds(stage, file)
    cameras = [_camera(file, p, bounds) for p in prims if p.IsA(UsdGeom.Camera)]

    spec = _import(file)
    _apply_physics(spec, stage, bodies)
    _add_lights(spec, stage)
    _add_textures(spec, stage, file)
    _add_sky(spec)
    spec.visual.global_.offwidth = spec.visual.global_.offheight = MAX_RENDER_SIZE
    spec.visual.quality.shadowsize = 1024
    velocities = {b.path: _velocity(stage.GetPrimAtPath(b.path)) for b in bodies if not b.kinematic}
    actions = {}
    for b in bodies:
        prim = stage.GetPrimAtPath(b.path)
        series = prim.GetAttribute(VELOCITIES_ATTR).Get() if b.kinematic else None
        if series is not None:
            rate = float(prim.GetAttribute(VELOCITY_RATE_ATTR).Get() or 16.0)
            actions[b.path] = (np.array(series, float).reshape(-1, 3), rate)
    return SceneModel(file, spec, bodies, cameras, bounds, velocities, actions)


# ------------------------------------------------------------------------------ checks


def _check_body(file: Path, prim: Any) -> Body:
    from pxr import Usd, UsdGeom, UsdPhysics

    path = str(prim.GetPath())
    colliders = [p for p in Usd.PrimRange(prim) if p.HasAPI(UsdPhysics.CollisionAPI)]
    if not colliders:
        raise SceneError(
            f"{file}: rigid body {path} has no collider: apply PhysicsCollisionAPI to it or to a "
            f"gprim under it"
        )
    for p in Usd.PrimRange(prim):
        if p.IsA(UsdGeom.Gprim) and p.GetTypeName() not in SUPPORTED_GPRIMS:
            raise SceneError(_unsupported(file, p))
    mass_attr = prim.GetAttribute("physics:mass")
    if mass_attr and mass_attr.HasAuthoredValue() and not mass_attr.Get() > 0:
        raise SceneError(
            f"{file}: rigid body {path} has mass {mass_attr.Get()}; a mass must be > 0 "
            f"(leave physics:mass unset to compute it from the density)"
        )
    kinematic = bool(prim.GetAttribute("physics:kinematicEnabled").Get())
    if kinematic and prim.GetParent().HasAPI(UsdPhysics.RigidBodyAPI):
        raise SceneError(f"{file}: kinematic body {path} cannot sit inside another rigid body")
    first = colliders[0]
    color = UsdGeom.Gprim(first).GetDisplayColorAttr().Get() if first.IsA(UsdGeom.Gprim) else None
    extent = UsdGeom.BBoxCache(0, ["default", "render"]).ComputeWorldBound(prim).ComputeAlignedRange()
    size = float(max(extent.GetSize())) if not extent.IsEmpty() else 0.0
    return Body(
        path,
        kinematic,
        first.GetTypeName().lower(),
        tuple(float(c) for c in color[0]) if color else (0.5, 0.5, 0.5),  # type: ignore[arg-type]
        size,
    )


def _unsupported(file: Path, prim: Any) -> str:
    return (
        f"{file}: {prim.GetPath()} is a {prim.GetTypeName() or 'typeless prim'}, which MuJoCo cannot "
        f"simulate; use one of {', '.join(SUPPORTED_GPRIMS)}"
    )


def _check_texture(file: Path, prim: Any) -> None:
    """Textures bound through UsdShade (UsdUVTexture inputs:file) must exist."""
    from pxr import UsdShade

    if not prim.IsA(UsdShade.Shader):
        return
    tex = prim.GetAttribute("inputs:file")
    if tex and tex.HasAuthoredValue():
        asset = tex.Get()
        resolved = asset.resolvedPath or ""
        if not resolved or not Path(resolved).exists():
            raise SceneError(f"{file}: texture {asset.path!r} of {prim.GetPath()} does not exist")


def _bounds(stage: Any, file: Path) -> tuple[np.ndarray, np.ndarray]:
    """The box around every finite gprim (planes are infinite to physics and left out)."""
    from pxr import Gf, UsdGeom

    cache = UsdGeom.BBoxCache(0, ["default", "render"])
    box = None
    for prim in stage.Traverse():
        if prim.IsA(UsdGeom.Gprim) and prim.GetTypeName() != "Plane":
            r = cache.ComputeWorldBound(prim).ComputeAlignedRange()
            if not r.IsEmpty():
                box = r if box is None else Gf.Range3d.GetUnion(box, r)
    if box is None:
        raise SceneError(f"{file}: the scene has no objects (only planes or nothing)")
    return np.array(box.GetMin()), np.array(box.GetMax())


def _world_pose(prim: Any) -> tuple[np.ndarray, np.ndarray]:
    """World position and w-x-y-z rotation of a prim (scale and shear removed)."""
    from pxr import Usd, UsdGeom

    m = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    q = m.RemoveScaleShear().ExtractRotationQuat()
    return np.array(m.ExtractTranslation()), np.array([q.GetReal(), *q.GetImaginary()])


def _camera(file: Path, prim: Any, bounds: tuple[np.ndarray, np.ndarray]) -> CameraSpec:
    from pxr import UsdGeom

    cam = UsdGeom.Camera(prim)
    pos, quat = _world_pose(prim)
    centre, radius = (bounds[0] + bounds[1]) / 2, float(np.linalg.norm(bounds[1] - bounds[0]) / 2)
    limit = 20 * max(radius, 0.5)
    distance = float(np.linalg.norm(pos - centre))
    if distance > limit:
        raise SceneError(
            f"{file}: camera {prim.GetPath()} is outside the scene's bounds: {distance:.1f} m from "
            f"the objects' centre, more than {limit:.1f} m"
        )
    forward = _rotate(quat, np.array([0.0, 0.0, -1.0]))
    if distance > radius and float(forward @ (centre - pos)) <= 0:
        raise SceneError(f"{file}: camera {prim.GetPath()} looks away from the scene")
    focal = cam.GetFocalLengthAttr().Get() or 50.0
    aperture = cam.GetVerticalApertureAttr().Get() or 15.2908
    motion = prim.GetAttribute(MOTION_ATTR).Get() or "static"
    amount = float(prim.GetAttribute(MOTION_AMOUNT_ATTR).Get() or 0.0)
    fovy = math.degrees(2 * math.atan(aperture / 2 / focal))
    return CameraSpec(str(prim.GetPath()), pos, quat, fovy, str(motion), amount)


def _rotate(quat: np.ndarray, v: np.ndarray) -> np.ndarray:
    w, x, y, z = quat
    u = np.array([x, y, z])
    return v + 2 * np.cross(u, np.cross(u, v) + w * v)


# ------------------------------------------------------------------------------ import


def _import(file: Path) -> Any:
    import mujoco

    try:
        return mujoco.MjSpec.from_file(str(file))
    except ValueError as e:
        raise SceneError(f"{file}: MuJoCo cannot import it: {e}") from None


def _apply_physics(spec: Any, stage: Any, bodies: list[Body]) -> None:
    """Masses, materials and kinematic bodies, which the importer does not carry over."""
    from pxr import UsdShade

    for geom in spec.geoms:
        prim = stage.GetPrimAtPath(geom.name) if geom.name.startswith("/") else None
        if not prim:
            continue
        material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial("physics")
        if material:
            m = material.GetPrim()
            friction = m.GetAttribute("physics:dynamicFriction").Get()
            if friction is not None:
                geom.friction[0] = float(friction)
            restitution = m.GetAttribute("physics:restitution").Get()
            if restitution:
                geom.solref = [0.01, _damping_ratio(float(restitution))]
            density = m.GetAttribute("physics:density").Get()
            if density:
                geom.density = float(density)
    for b in bodies:
        body = spec.body(b.path)
        mass = stage.GetPrimAtPath(b.path).GetAttribute("physics:mass").Get()
        if mass:
            volume = sum(_volume(g) for g in body.geoms) or 1.0
            for g in body.geoms:
                g.density = float(mass) / volume
        if b.kinematic:
            for joint in list(body.joints):
                spec.delete(joint)
            body.mocap = True


def _damping_ratio(restitution: float) -> float:
    """MuJoCo has no restitution: a soft contact with this damping ratio bounces back about
    ``restitution`` of the impact speed (a damped spring's rebound)."""
    e = min(max(restitution, 1e-3), 0.99)
    return -math.log(e) / math.sqrt(math.pi**2 + math.log(e) ** 2)


def _volume(geom: Any) -> float:
    import mujoco

    s = geom.size
    t = geom.type
    if t == mujoco.mjtGeom.mjGEOM_SPHERE:
        return 4 / 3 * math.pi * s[0] ** 3
    if t == mujoco.mjtGeom.mjGEOM_BOX:
        return 8 * s[0] * s[1] * s[2]
    if t == mujoco.mjtGeom.mjGEOM_CYLINDER:
        return math.pi * s[0] ** 2 * 2 * s[1]
    if t == mujoco.mjtGeom.mjGEOM_CAPSULE:
        return math.pi * s[0] ** 2 * 2 * s[1] + 4 / 3 * math.pi * s[0] ** 3
    return 1e-3  # meshes: treated as a litre; their mass is then the authored one


def _velocity(prim: Any) -> tuple[np.ndarray, np.ndarray]:
    """Initial linear (m/s) and angular (rad/s) velocity, world frame."""
    lin = prim.GetAttribute("physics:velocity").Get()
    ang = prim.GetAttribute("physics:angularVelocity").Get()  # degrees per second in UsdPhysics
    return (
        np.array(lin if lin is not None else (0, 0, 0), float),
        np.radians(np.array(ang if ang is not None else (0, 0, 0), float)),
    )


def _add_lights(spec: Any, stage: Any) -> None:
    """UsdLux lights as MuJoCo lights; a stage without lights gets a key light from above."""
    import mujoco
    from pxr import UsdLux

    added = 0
    for prim in stage.Traverse():
        if not prim.HasAPI(UsdLux.LightAPI):
            continue
        light = UsdLux.LightAPI(prim)
        pos, quat = _world_pose(prim)
        intensity = float(light.GetIntensityAttr().Get() or 1000.0)
        strength = 1 - math.exp(-intensity / 1500)  # USD intensities are unbounded, MuJoCo's not
        color = np.array(light.GetColorAttr().Get() or (1, 1, 1)) * strength
        directional = prim.GetTypeName() in ("DistantLight", "DomeLight")
        spec.worldbody.add_light(
            name=str(prim.GetPath()),
            type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL if directional else mujoco.mjtLightType.mjLIGHT_SPOT,
            pos=pos if not directional else pos + np.array([0, 0, 5.0]),
            dir=_rotate(quat, np.array([0.0, 0.0, -1.0])),
            diffuse=color,
            specular=color * 0.3,
            castshadow=added == 0,  # the key light; more shadow maps cost more than they show
        )
        added += 1
    if not added:
        spec.worldbody.add_light(name="key", pos=[0, 0, 6], dir=[0, 0, -1], diffuse=[0.8, 0.8, 0.8],
                                 castshadow=True)


def _add_sky(spec: Any) -> None:
    """A pale gradient sky for the real style (the plain style renders without it)."""
    import mujoco

    spec.add_texture(name="worldgraph:sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                     builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, rgb1=[0.75, 0.85, 0.95],
                     rgb2=[0.35, 0.45, 0.6], width=64, height=64)


def _add_textures(spec: Any, stage: Any, file: Path) -> None:
    """Textures for the real style: an image bound through UsdShade (a UsdUVTexture's
    inputs:file), or ``worldgraph:texture`` (a builtin pattern in the prim's colour)."""
    import mujoco

    for geom in spec.geoms:
        prim = stage.GetPrimAtPath(geom.name) if geom.name.startswith("/") else None
        if not prim:
            continue
        image, kind = _texture_file(prim), prim.GetAttribute(TEXTURE_ATTR).Get()
        if image is None and not kind:
            continue
        plane = geom.type == mujoco.mjtGeom.mjGEOM_PLANE
        texture: dict[str, Any] = dict(name=f"tex:{geom.name}", type=(
            mujoco.mjtTexture.mjTEXTURE_2D if plane else mujoco.mjtTexture.mjTEXTURE_CUBE))
        if image is not None:
            tex = spec.add_texture(**texture, file=str(image))
        else:
            tex = _pattern(spec, geom, str(kind), plane, texture, file)
        material = spec.add_material(name=f"mat:{geom.name}", reflectance=0.15 if plane else 0.05)
        material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = tex.name
        if plane:
            material.texrepeat = [4, 4]
            material.texuniform = True
        geom.material = material.name


def read_floor_pattern(file: Path) -> str | None:
    """The real-style texture of the first textured plane (the floor) of the scene ``file``:
    a ``worldgraph:texture`` pattern, or ``image``; None without one, or when the file is
    missing or unreadable. The plain style does not show it."""
    from pxr import Usd, UsdGeom

    try:
        stage = Usd.Stage.Open(str(file)) if file.exists() else None
    except Exception:  # pxr raises its own Tf.ErrorException; a clip without a floor is still a clip
        return None
    for prim in stage.Traverse() if stage else ():
        if prim.IsA(UsdGeom.Plane):
            if kind := prim.GetAttribute(TEXTURE_ATTR).Get():
                return str(kind)
            if _texture_file(prim) is not None:
                return "image"
    return None


def _texture_file(prim: Any) -> Path | None:
    from pxr import Usd, UsdShade

    material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    if not material:
        return None
    for p in Usd.PrimRange(material.GetPrim()):
        attr = p.GetAttribute("inputs:file") if p.IsA(UsdShade.Shader) else None
        if attr and attr.HasAuthoredValue() and attr.Get().resolvedPath:
            return Path(attr.Get().resolvedPath)
    return None


def _pattern(spec: Any, geom: Any, kind: str, plane: bool, texture: dict[str, Any], file: Path) -> Any:
    import mujoco

    builtins = {
        "checker": mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        "gradient": mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        "noise": mujoco.mjtBuiltin.mjBUILTIN_FLAT,
    }
    if kind not in builtins:
        raise SceneError(
            f"{file}: {geom.name} has {TEXTURE_ATTR} {kind!r}; use one of {', '.join(builtins)}"
        )
    rgb1 = np.array(geom.rgba[:3])
    if kind == "noise" and plane:  # our own noise: MuJoCo's random marks differ between processes
        rng = np.random.default_rng(zlib.crc32(geom.name.encode()))
        grain = rng.normal(0, 0.12, (128, 128, 1)) + rng.normal(0, 0.05, (128, 128, 3))
        pixels = np.clip((rgb1 + grain) * 255, 0, 255).astype(np.uint8)
        return spec.add_texture(**texture, width=128, height=128, nchannel=3,
                                data=pixels.reshape(-1).tolist())
    pattern = builtins["checker" if kind == "noise" else kind]  # noise needs a plane's coordinates
    return spec.add_texture(**texture, width=128, height=128, builtin=pattern, rgb1=rgb1.tolist(),
                            rgb2=np.clip(rgb1 * 0.6 + 0.1, 0, 1).tolist())
