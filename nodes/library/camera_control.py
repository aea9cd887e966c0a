"""worldgraph.wfm.CameraControl: the world model post-trained to follow a camera path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import ASSET, CAMERA, ENUM, FLOAT, INT, LATENT, PROMPT, STRING, VIDEO, Camera, Latent, Prompt, Video
from .backend import engine_errors
from .wfm import prompt_tokens, sampling, sampling_inputs

PATHS = ("joystick", "usd_camera", "camera_input")


def camera_path(path: str, frames: int, size: tuple[int, int], moves: dict[str, float], usd_path: Path | None,
                camera_prim: str, camera: Camera | None) -> Any:
    """The engine's CameraPath for ``frames`` frames of ``size`` (height, width) from the chosen source."""
    from worldgraph.engines.post.camera import default_intrinsics, joystick, usd_camera_path
    from worldgraph.engines.post.camera_api import path_of

    height, width = size
    if path == "joystick":
        return path_of(joystick(frames, **moves), default_intrinsics(width, height), "joystick path")
    if path == "usd_camera":
        if usd_path is None:
            raise NodeError("path is usd_camera: set usd_path to a .usda with an animated camera prim")
        poses, intrinsics = usd_camera_path(usd_path, camera_prim, frames)
        return path_of(poses, default_intrinsics(width, height) if intrinsics is None else intrinsics,
                       f"{usd_path}:{camera_prim}")
    if camera is None:
        raise NodeError("path is camera_input: connect a camera (e.g. a Clip node's camera output)")
    if len(camera.poses) < frames:
        raise NodeError(f"camera: {len(camera.poses)} poses for {frames} frames: give one pose per frame")
    return path_of(np.asarray(camera.poses)[:frames], camera.intrinsics, "camera input")


@node(
    "worldgraph.wfm.CameraControl",
    inputs=[
        Input("video", VIDEO, doc="what the camera sees first: 1 frame, or 5 (1 + 4k) frames"),
        Input("prompt", PROMPT, doc="what is in the scene (the camera path says how it moves); none: unprompted",
              optional=True),
        Input("path", ENUM, "joystick", "where the camera goes: joystick moves, an animated USD camera, or a "
              "connected camera", choices=PATHS),
        Input("forward", FLOAT, 0.0, "joystick: metres along the view direction per frame (negative: back)",
              range=(-1, 1)),
        Input("strafe", FLOAT, 0.0, "joystick: metres to the right per frame", range=(-1, 1)),
        Input("yaw", FLOAT, 0.0, "joystick: degrees turned left per frame", range=(-30, 30)),
        Input("pitch", FLOAT, 0.0, "joystick: degrees tilted up per frame", range=(-30, 30)),
        Input("usd_path", ASSET, doc="usd_camera: a stage with an animated camera (one time code a frame, from "
              "its start time code)", optional=True),
        Input("camera_prim", STRING, "/World/camera", "usd_camera: the camera prim's path"),
        Input("camera", CAMERA, doc="camera_input: one world-from-camera pose per frame and the intrinsics",
              optional=True),
        Input("variants", INT, 3, "futures to sample, seeds seed, seed + 1, ... (several plausible outcomes)",
              range=(1, 16)),
        *sampling_inputs(0.0),
    ],
    outputs=[
        Output("latent", LATENT, "the first variant's latents, the given frames first (decode with "
               "worldgraph.tokenizer.Decode)"),
        Output("video", VIDEO, "every variant decoded, stacked top to bottom: a contact sheet then reads one "
               "variant per row, time left to right"),
        Output("camera", CAMERA, "the camera path followed, one pose per frame relative to the first"),
    ],
    seeded=True,
)
def CameraControl(
    ctx: Context, video: Video, prompt: Prompt | None, path: str, forward: float, strafe: float, yaw: float,
    pitch: float, usd_path: Path | None, camera_prim: str, camera: Camera | None, variants: int, frames: int,
    steps: int, guidance: float, negative: str, seed: int, sigma_max: float, sampler: str, backend: str,
) -> dict[str, Any]:
    """Continue the given frame(s) as seen by a camera that moves as told: joystick-style
    moves, an animated USD camera, or a connected camera path. Runs on torch whatever the
    backend says (the camera model has no exported engine yet)."""
    from worldgraph.engines.post.camera_api import load
    from worldgraph.engines.wfm.api import WFMInputError

    moves = {"forward": forward, "strafe": strafe, "yaw": yaw, "pitch": pitch}
    settings = sampling(ctx, steps, guidance, negative, seed, sigma_max, sampler)
    try:
        model = load()
        route = camera_path(path, frames, video.frames.shape[1:3], moves, usd_path, camera_prim, camera)
        given = model.encode_video(video.frames)
        z = model.generate(prompt.text if prompt else "", settings, given, route, frames, variants,
                           progress=ctx.progress, text=prompt_tokens(prompt) if prompt else None)
        decoded = model.decode(z)  # [V, T, H, W, 3]
    except (WFMInputError, *engine_errors()) as e:
        raise NodeError(str(e)) from None
    relative = np.linalg.inv(route.poses[0])[None] @ route.poses
    return {
        "latent": Latent(model.space.raw(z[:1])[0].numpy().astype(np.float32), model.space.name, frames, video.fps),
        "video": Video(np.ascontiguousarray(np.concatenate(list(decoded), axis=1)), video.fps),  # [T, V*H, W, 3]
        "camera": Camera(relative.astype(np.float64), route.intrinsics),
    }
