"""Synthetic data throughput: clips per second for simulate + render (RGB plain and real,
depth, segmentation) + write (two MP4s, npy, camera, animated USD, checksums), 17 frames,
at 64x64 and 256x256, on one and on all cores; and where the time of one clip goes.
Target at 64x64: >= 6 clips/s using both cores.

    python benchmarks/sim_throughput.py [--clips 24]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_clip, write_dataset
from worldgraph.engines.sim.pipeline import Clip, ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig, random_scene
from worldgraph.engines.sim.render import render_clip
from worldgraph.engines.sim.scene import load_scene
from worldgraph.engines.sim.simulate import CameraMotion, build_model, simulate


def split(settings: ClipSettings, clips: int) -> dict[str, float]:
    """Seconds per clip in each stage, one process."""
    totals = dict.fromkeys(("scene", "physics", "render", "write"), 0.0)
    work = Path(tempfile.mkdtemp())
    for i in range(clips + 1):  # the first clip warms up and is not counted
        t0 = time.perf_counter()
        scene = load_scene(random_scene(work / "scene.usda", 1000 + i))
        camera = scene.cameras[0]
        model = build_model(scene, camera)
        t1 = time.perf_counter()
        trajectory = simulate(scene, model, settings.frames, settings.fps, settings.substeps,
                              motion=CameraMotion(camera.motion, camera.motion_amount))
        t2 = time.perf_counter()
        render = render_clip(model, trajectory, settings.width, settings.height)
        t3 = time.perf_counter()
        clip = Clip(scene, model, trajectory, render, "", CameraMotion(), camera.path)
        folder = work / f"clip{i}"
        folder.mkdir()
        write_clip(folder, clip, {})
        t4 = time.perf_counter()
        if i:
            for key, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                totals[key] += dt
    shutil.rmtree(work)
    return {k: v / clips for k, v in totals.items()}


def throughput(settings: ClipSettings, clips: int, workers: int) -> float:
    root = Path(tempfile.mkdtemp())
    jobs = ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=7, count=clips), settings)
    t0 = time.perf_counter()
    report = write_dataset(jobs, root, workers=workers)
    elapsed = time.perf_counter() - t0
    assert len(report.made) == clips, report.failed
    shutil.rmtree(root)
    return clips / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    for size, clips in ((64, args.clips), (256, max(4, args.clips // 3))):
        settings = replace(ClipSettings(), width=size, height=size)
        parts = split(settings, max(4, clips // 3))
        total = sum(parts.values())
        one = throughput(settings, clips, 1)
        every = throughput(settings, clips, cores)
        print(f"{size}x{size}, 17 frames, {clips} clips")
        print(f"  1 worker : {one:5.2f} clips/s")
        print(f"  {cores} workers: {every:5.2f} clips/s ({every / one:.2f}x)"
              + ("  (target >= 6 clips/s: " + ("met" if every >= 6 else "MISSED") + ")" if size == 64 else ""))
        print("  one clip : " + ", ".join(f"{k} {v * 1e3:.0f} ms ({v / total:.0%})" for k, v in parts.items()))


if __name__ == "__main__":
    main()
