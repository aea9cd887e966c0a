"""The simulated scene as animated USD: the source stage, flattened, with a time-sampled
transform per body and for the camera, one time code per frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..media.files import atomic_output
from .pipeline import Clip
from .simulate import RENDER_CAMERA

EXPORTED_CAMERA = "/World/worldgraph_camera"


def export_usd(clip: Clip, path: Path) -> Path:
    """Write ``clip`` as an animated .usda at ``path`` (atomically)."""
    from pxr import Gf, Usd, UsdGeom

    source = Usd.Stage.Open(str(clip.scene.file))
    layer = source.Flatten()
    layer.documentation = f"worldgraph: simulation of {clip.scene.file.name}, {clip.trajectory.frames} frames"
    stage = Usd.Stage.Open(layer)
    frames, fps = clip.trajectory.frames, clip.trajectory.fps
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(frames - 1)
    stage.SetTimeCodesPerSecond(fps)
    stage.SetFramesPerSecond(fps)
    ids = {clip.model.body(i).name: i for i in range(clip.model.nbody)}
    cache = UsdGeom.XformCache(Usd.TimeCode.Default())

    for body in clip.scene.bodies:
        prim = stage.GetPrimAtPath(body.path)
        scale = Gf.Transform(cache.GetLocalToWorldTransform(prim)).GetScale()
        parent = cache.GetParentToWorldTransform(prim).GetInverse()
        op = _reset_to_matrix_op(prim)
        b = ids[body.path]
        for t in range(frames):
            world = _matrix(clip.trajectory.body_pos[t, b], clip.trajectory.body_quat[t, b], scale)
            op.Set(world * parent, Usd.TimeCode(t))

    camera = _camera_prim(stage, clip)
    parent = cache.GetParentToWorldTransform(camera).GetInverse()
    op = _reset_to_matrix_op(camera)
    for t in range(frames):
        pose = clip.render.extrinsics[t]
        world = Gf.Matrix4d(*pose.T.reshape(-1).tolist())  # USD matrices are row-vector: transpose
        op.Set(world * parent, Usd.TimeCode(t))

    with atomic_output(path) as tmp:
        tmp.write_text(stage.GetRootLayer().ExportToString())
    return path


def _camera_prim(stage: Any, clip: Clip) -> Any:
    """The scene camera that was rendered from, or a new one for the default view."""
    from pxr import UsdGeom

    if clip.camera_path is not None:
        return stage.GetPrimAtPath(clip.camera_path)
    camera = UsdGeom.Camera.Define(stage, EXPORTED_CAMERA)
    fovy = float(clip.model.cam_fovy[clip.model.camera(RENDER_CAMERA).id])
    height, width = clip.render.depth.shape[1:]
    aperture = 15.2908
    camera.CreateVerticalApertureAttr(aperture)
    camera.CreateHorizontalApertureAttr(aperture * width / height)
    camera.CreateFocalLengthAttr(aperture / 2 / np.tan(np.radians(fovy) / 2))
    return camera.GetPrim()


def _reset_to_matrix_op(prim: Any) -> Any:
    from pxr import UsdGeom

    xformable = UsdGeom.Xformable(prim)
    xformable.ClearXformOpOrder()
    for name in prim.GetPropertyNames():  # the old ops' attributes would linger unused
        if name.startswith("xformOp:"):
            prim.RemoveProperty(name)
    return xformable.AddTransformOp()


def _matrix(pos: np.ndarray, quat: np.ndarray, scale: Any) -> Any:
    from pxr import Gf

    rotation = Gf.Matrix4d().SetRotate(Gf.Quatd(float(quat[0]), Gf.Vec3d(*quat[1:].tolist())))
    return Gf.Matrix4d().SetScale(scale) * rotation * Gf.Matrix4d().SetTranslate(Gf.Vec3d(*pos.tolist()))
