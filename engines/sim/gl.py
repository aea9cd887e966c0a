"""A lean offscreen MuJoCo renderer for making many short clips.

``mujoco.Renderer`` makes a new GL context per model; here one context lives for each
thread that renders (an EGL context stays bound to the thread that made it current, so a
host that runs graphs on a new worker thread each time, like the editor, needs its own)
and only the per-model ``MjrContext`` is made per clip. One segmentation
pass also reads the depth buffer, so ids and depth cost one render.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

_local = threading.local()  # this thread's GL context, made on first use, freed with the thread


def _gl_context() -> Any:
    context = getattr(_local, "context", None)
    if context is None:
        from mujoco import gl_context

        context = _local.context = gl_context.GLContext(64, 64)  # EGL/OSMesa: MuJoCo renders into its own buffer
    context.make_current()
    return context


class OffscreenRenderer:
    def __init__(self, model: Any, width: int, height: int, camera: int) -> None:
        import mujoco

        self.model, self.width, self.height = model, width, height
        model.vis.global_.offwidth, model.vis.global_.offheight = width, height
        _gl_context()
        self._con = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_50)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._con)
        self._con.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        self._scene = mujoco.MjvScene(model, maxgeom=2000)
        self._option = mujoco.MjvOption()
        self._perturb = mujoco.MjvPerturb()
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._camera.fixedcamid = camera
        self._rect = mujoco.MjrRect(0, 0, width, height)
        extent = model.stat.extent
        self._near, self._far = model.vis.map.znear * extent, model.vis.map.zfar * extent

    def __enter__(self) -> OffscreenRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._con.free()

    def _render(self, data: Any, effects: bool, ids: bool) -> None:
        import mujoco

        mujoco.mjv_updateScene(self.model, data, self._option, self._perturb, self._camera,
                               mujoco.mjtCatBit.mjCAT_ALL, self._scene)
        flags = self._scene.flags
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                     mujoco.mjtRndFlag.mjRND_SKYBOX):
            flags[flag] = effects
        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = ids
        mujoco.mjr_render(self._rect, self._scene, self._con)

    def color(self, data: Any, effects: bool = True) -> np.ndarray:
        """RGB uint8 [H, W, 3]; without effects: no shadows, reflections or sky."""
        import mujoco

        self._render(data, effects, ids=False)
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        mujoco.mjr_readPixels(rgb, None, self._rect, self._con)
        return rgb[::-1]

    def geoms_and_depth(self, data: Any) -> tuple[np.ndarray, np.ndarray]:
        """(geom id per pixel, -1 where none; depth in metres along the view axis)."""
        import mujoco

        self._render(data, effects=False, ids=True)
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        z = np.empty((self.height, self.width), np.float32)
        mujoco.mjr_readPixels(rgb, z, self._rect, self._con)
        segid = rgb.astype(np.int64) @ np.array([1, 1 << 8, 1 << 16])  # 0 = background
        ngeom = self._scene.ngeom
        to_geom = np.full(ngeom + 1, -1, np.int64)
        for g in self._scene.geoms[:ngeom]:
            if g.segid != -1 and g.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                to_geom[g.segid + 1] = g.objid
        geoms = to_geom[np.clip(segid, 0, ngeom)]
        # reversed-Z perspective depth buffer back to metres (as mujoco.Renderer does)
        far, near = np.float32(self._far), np.float32(self._near)
        c = np.float32(-0.5) * (-(far + near) / (far - near)) - np.float32(0.5)
        d = np.float32(-0.5) * (-(np.float32(2) * far * near) / (far - near))
        depth = (d / (z.astype(np.float64) + c)).astype(np.float32)
        return geoms[::-1], depth[::-1]
