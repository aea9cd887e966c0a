"""Physics scenes: USD (UsdPhysics) into MuJoCo, simulation, offscreen rendering,
randomization, animated USD export and datasets on disk."""
