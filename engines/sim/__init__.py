"""Physics scenes: USD (UsdPhysics) into MuJoCo, simulation, offscreen rendering,
randomization, animated USD export and datasets on disk."""

import os

# headless offscreen rendering unless the user chose a GL backend (glfw needs a display)
os.environ.setdefault("MUJOCO_GL", "egl")
