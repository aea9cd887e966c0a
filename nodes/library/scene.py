"""worldgraph.scene: USD physics scenes, simulated and rendered.

``LoadScene`` / ``Randomize`` say which scenes, ``Simulate`` and ``Render`` how to make
each clip; nothing heavy runs until a clip is needed, by ``Clip`` (one clip, in memory)
or by ``worldgraph.dataset.WriteDataset`` (all of them, on all cores, on disk).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import (
    ACTIONS,
    ASSET,
    BOOL,
    CAMERA,
    DEPTH,
    ENUM,
    FILE,
    FLOAT,
    INT,
    OUTPUT_FILE,
    PROMPT,
    RENDERS,
    SCENE,
    SEGMENTATION,
    SIMULATION,
    STRING,
    VIDEO,
    Actions,
    Camera,
    Depth,
    Prompt,
    Renders,
    Scene,
    Segmentation,
    Simulation,
    Video,
)

CAMERA_MOTIONS = ("scene", "static", "orbit", "dolly", "pan")
STYLE_CHOICES = ("both", "real", "plain")


@node(
    "worldgraph.scene.LoadScene",
    inputs=[Input("path", ASSET, doc="a .usda/.usd stage with UsdPhysics prims, Z-up, metres")],
    outputs=[Output("scene", SCENE, "the scene, checked")],
)
def LoadScene(ctx: Context, path: Path) -> dict[str, Scene]:
    """A hand-authored USD physics scene (checked now: missing physics, colliders, masses)."""
    from worldgraph.engines.sim.dataset import SceneSet
    from worldgraph.engines.sim.scene import SceneError, load_scene

    try:
        load_scene(path)
    except SceneError as e:
        raise NodeError(str(e)) from None
    return {"scene": Scene(SceneSet(files=(path,)))}


def _names(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise NodeError(f"{what} {', '.join(bad) or '(none)'}: use some of {', '.join(allowed)}")
    return names


@node(
    "worldgraph.scene.Randomize",
    inputs=[
        Input("count", INT, 8, "how many scenes (one per clip)", range=(1, 1_000_000)),
        Input("min_objects", INT, 1, "fewest objects in a scene", range=(1, 12)),
        Input("max_objects", INT, 4, "most objects in a scene", range=(1, 12)),
        Input("shapes", STRING, "sphere,cube,cylinder,capsule", "shapes to draw from, comma-separated"),
        Input("starts", STRING, "drop,throw,roll,collide,topple", "how objects start moving (or rest)"),
        Input("camera_motions", STRING, "static,orbit,dolly,pan", "camera motions to draw from"),
        Input("pusher", BOOL, False, "add a kinematic pusher driven by an action sequence"),
        Input("pusher_mode", ENUM, "push", "push: one shove from the edge; explore: random moves "
              "next to an object (action-conditioned training data)", choices=("push", "explore")),
    ],
    outputs=[Output("scene", SCENE, "a randomized scene per index")],
    seeded=True,
)
def Randomize(
    ctx: Context, count: int, min_objects: int, max_objects: int, shapes: str, starts: str,
    camera_motions: str, pusher: bool, pusher_mode: str,
) -> dict[str, Scene]:
    """Seeded domain randomization: objects, materials, starts, lights, floor and camera."""
    from worldgraph.engines.sim import randomize as r
    from worldgraph.engines.sim.dataset import SceneSet

    try:
        config = r.RandomizeConfig(
            min_objects=min_objects, max_objects=max_objects,
            shapes=_names(shapes, r.SHAPES, "shapes"), starts=_names(starts, r.ALL_STARTS, "starts"),
            camera_motions=_names(camera_motions, r.CAMERA_MOTIONS, "camera motions"), pusher=pusher,
            pusher_mode=pusher_mode,
        )
    except ValueError as e:
        raise NodeError(str(e)) from None
    return {"scene": Scene(SceneSet(randomize=config, seed=ctx.seed, count=count))}


@node(
    "worldgraph.scene.Simulate",
    inputs=[
        Input("scene", SCENE, doc="scenes to simulate"),
        Input("frames", INT, 17, "frames per clip (1 + 4k suits the 4x tokenizers)", range=(1, 2000)),
        Input("fps", FLOAT, 16.0, "frames per second", range=(1, 240)),
        Input("substeps", INT, 8, "physics steps per frame", range=(1, 200)),
        Input("camera_motion", ENUM, "scene", "scene: as the camera prim says", choices=CAMERA_MOTIONS),
        Input("camera_amount", FLOAT, 30.0, "orbit/pan degrees, or dolly fraction", range=(-360, 360)),
        Input("camera", STRING, "", "camera prim to render from; empty: the scene's first"),
    ],
    outputs=[Output("simulation", SIMULATION, "the simulation of each scene, made on demand")],
)
def Simulate(
    ctx: Context, scene: Scene, frames: int, fps: float, substeps: int, camera_motion: str,
    camera_amount: float, camera: str,
) -> dict[str, Simulation]:
    """MuJoCo at a fixed frame rate with substeps; divergence is reported naming the body."""
    from worldgraph.engines.sim.dataset import ClipJobs
    from worldgraph.engines.sim.pipeline import ClipSettings

    settings = ClipSettings(frames=frames, fps=fps, substeps=substeps, camera=camera,
                            camera_motion=camera_motion, camera_amount=camera_amount)
    return {"simulation": Simulation(ClipJobs(scene.scenes, settings))}


@node(
    "worldgraph.scene.Render",
    inputs=[
        Input("simulation", SIMULATION, doc="what to render"),
        Input("width", INT, 64, "pixels", range=(8, 1024)),
        Input("height", INT, 64, "pixels", range=(8, 1024)),
        Input("styles", ENUM, "both", "real: textures, shadows, blur, noise; plain: flat colours",
              choices=STYLE_CHOICES),
        Input("shutter", INT, 2, "substeps averaged per real frame (motion blur); 1: none",
              range=(1, 64)),
        Input("noise", FLOAT, 2.0, "sensor noise of the real style, 8-bit levels", range=(0, 50)),
    ],
    outputs=[Output("renders", RENDERS, "RGB, depth, segmentation and camera per clip, on demand")],
)
def Render(
    ctx: Context, simulation: Simulation, width: int, height: int, styles: str, shutter: int,
    noise: float,
) -> dict[str, Renders]:
    """Offscreen MuJoCo rendering: RGB (plain and real), depth, segmentation, camera."""
    chosen = ("plain", "real") if styles == "both" else (styles,)
    settings = replace(simulation.jobs.settings, width=width, height=height, styles=chosen,
                       shutter=shutter, noise=noise)
    return {"renders": Renders(replace(simulation.jobs, settings=settings))}


@node(
    "worldgraph.scene.Clip",
    inputs=[
        Input("renders", RENDERS, doc="the clips"),
        Input("index", INT, 0, "which clip", range=(0, None)),
    ],
    outputs=[
        Output("rgb", VIDEO, "real style (plain when only plain was rendered)"),
        Output("plain", VIDEO, "plain style (real when only real was rendered)"),
        Output("depth", DEPTH, "metres"),
        Output("segmentation", SEGMENTATION, "instance ids and prim paths"),
        Output("camera", CAMERA, "intrinsics and world-from-camera per frame"),
        Output("actions", ACTIONS, "kinematic bodies' velocities per frame"),
        Output("prompt", PROMPT, "a caption of what happens"),
    ],
)
def Clip(ctx: Context, renders: Renders, index: int) -> dict[str, Any]:
    """Make one clip now: simulate and render it, in memory."""
    from worldgraph.engines.post.pusher import body_corners

    with _clip(ctx, renders, index) as clip:
        r = clip.render
        actions, caption = clip.trajectory.actions, clip.caption
        kinematic = [b.path for b in clip.scene.bodies if b.kinematic]
        try:  # one box pusher: its pose goes with its actions
            corners = body_corners(clip.model, clip.trajectory, kinematic[0]) if len(kinematic) == 1 else None
        except ValueError:
            corners = None
    real = r.rgb.get("real", r.rgb.get("plain"))
    plain = r.rgb.get("plain", real)
    return {
        "rgb": Video(real, r.fps),
        "plain": Video(plain, r.fps),
        "depth": Depth(r.depth, r.fps),
        "segmentation": Segmentation(r.segmentation, r.segment_paths, r.fps),
        "camera": Camera(r.extrinsics, r.intrinsics),
        "actions": Actions(actions, corners),
        "prompt": Prompt(caption),
    }


@node(
    "worldgraph.scene.ExportUSD",
    inputs=[
        Input("renders", RENDERS, doc="the clips"),
        Input("index", INT, 0, "which clip", range=(0, None)),
        Input("path", OUTPUT_FILE, "scene.usda", "the animated .usda to write"),
    ],
    outputs=[Output("file", FILE, "the animated USD")],
)
def ExportUSD(ctx: Context, renders: Renders, index: int, path: str) -> dict[str, Path]:
    """The simulated scene as animated USD: a time sample per frame for every body and the camera."""
    from worldgraph.engines.sim.export import export_usd

    if not path.endswith(".usda"):
        raise NodeError(f"export path {path!r} must end in .usda")
    target = ctx.output_path(path)
    with _clip(ctx, renders, index) as clip:
        export_usd(clip, target)
    return {"file": target}


@contextmanager
def _clip(ctx: Context, renders: Renders, index: int) -> Iterator[Any]:
    """Clip ``index``, alive (with its randomized scene file) inside the block."""
    import tempfile

    from worldgraph.engines.sim.scene import SceneError

    jobs = renders.jobs
    if index >= len(jobs):
        raise NodeError(f"clip index {index} is out of range: there are {len(jobs)} clips")
    with tempfile.TemporaryDirectory(prefix="worldgraph-scene-") as work:
        try:
            clip, _ = jobs.make(index, Path(work), ctx.progress)
        except SceneError as e:
            raise NodeError(str(e)) from None
        yield clip
