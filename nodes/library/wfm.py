"""worldgraph.wfm: the diffusion world model (Text2World, Video2World) and its text encoder, and
the models post-trained from it: on a pusher's actions (ActionVideo2World) and on camera
paths (CameraControl)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import (
    ACTIONS,
    ASSET,
    CAMERA,
    ENUM,
    FLOAT,
    INT,
    LATENT,
    PROMPT,
    STRING,
    TOKENS,
    VIDEO,
    Actions,
    Camera,
    Latent,
    Prompt,
    Tokens,
    Video,
)
from .backend import backend_input, engine_errors
from .models import ModelChoices


def sampling_inputs(guidance: float) -> list[Input]:
    """The sampler's inputs; the guidance default differs: Video2World and Transfer follow
    their given frames / controls best unguided (on held-out clips: lowest MSE; every
    alignment metric better), Text2World needs guidance to follow its prompt."""
    return [
        Input("frames", INT, 17, "frames to generate, 1 + 4k (the given ones included)", range=(5, 65)),
        Input("steps", INT, 35, "sampler steps (Heun evaluates the model twice a step)", range=(1, 200)),
        Input("guidance", FLOAT, guidance, "classifier-free guidance; 0 turns it off", range=(0, 20)),
        Input("negative", STRING, "", "negative prompt that guidance steers away from"),
        Input("seed", INT, -1, "noise seed; -1 derives one from the graph seed and this node", range=(-1, 2**31 - 1)),
        Input("sigma_max", FLOAT, 80.0, "noise level sampling starts from", range=(0.01, 1000)),
        Input("sampler", ENUM, "heun", "EDM Heun (2nd order) or Euler", choices=("heun", "euler")),
        backend_input(),
    ]


# The catalog's base world models; ControlNets and post-trained models build on wfm-cv4x8x8,
# wfm-cv4x8x8-v2 works on cv4x8x8-v2's latents, which keep more motion.
MODELS = ModelChoices("wfm", "wfm-cv4x8x8")


def model_input() -> Input:
    return Input("model", ENUM, MODELS.default, "the world model (and so the tokenizer its latents decode with)",
                 choices=MODELS)


def world_model(backend: str, name: str = MODELS.default) -> Any:
    from worldgraph.engines.wfm.api import load

    try:
        return load(name).on(backend)
    except engine_errors() as e:
        raise NodeError(str(e)) from None


def sampling(ctx: Context, steps: int, guidance: float, negative: str, seed: int, sigma_max: float,
             sampler: str) -> Any:
    """The sampler settings of the inputs ``sampling_inputs`` declares (seed -1: the node's)."""
    from worldgraph.engines.wfm.api import Sampling

    return Sampling(steps=steps, guidance=guidance, seed=ctx.seed % 2**31 if seed < 0 else seed,
                    sigma_max=sigma_max, method=sampler, negative=negative)


def prompt_tokens(prompt: Prompt) -> Any:
    """The prompt's token embeddings and mask [1, L, D], [1, L] when TextEncode made them, else None."""
    if prompt.embedding is None:
        return None
    import torch

    tokens = torch.from_numpy(prompt.embedding).float()[None]
    return tokens, torch.ones(tokens.shape[:2], dtype=torch.bool)


def _generate(ctx: Context, prompt: Prompt, given_video: Video | None, name: str, frames: int, steps: int,
              guidance: float, negative: str, seed: int, sigma_max: float, sampler: str,
              backend: str) -> dict[str, Latent]:
    from worldgraph.engines.wfm.api import WFMInputError

    model = world_model(backend, name)
    settings = sampling(ctx, steps, guidance, negative, seed, sigma_max, sampler)
    text = prompt_tokens(prompt)
    try:
        given = model.encode_video(given_video.frames) if given_video is not None else None
        z = model.generate([prompt.text], settings, given=given, frames=frames, progress=ctx.progress, text=text)
    except (WFMInputError, *engine_errors()) as e:
        raise NodeError(str(e)) from None
    values = model.space.raw(z)[0].numpy().astype(np.float32)
    fps = given_video.fps if given_video is not None else 16.0
    return {"latent": Latent(values, model.space.name, frames, fps)}


@node(
    "worldgraph.wfm.TextEncode",
    inputs=[Input("text", STRING, "", "what should happen, e.g. 'a red ball falls; the camera is still'"),
            backend_input()],
    outputs=[Output("prompt", PROMPT, "the text with its MiniLM token embeddings")],
)
def TextEncode(ctx: Context, text: str, backend: str) -> dict[str, Prompt]:
    """Encode a prompt once for the world-model nodes (MiniLM token embeddings)."""
    from worldgraph.engines.text import minilm

    try:
        hidden, _ = minilm().tokens([text], backend=backend)
    except engine_errors() as e:
        raise NodeError(str(e)) from None
    return {"prompt": Prompt(text, hidden[0].numpy())}


@node(
    "worldgraph.wfm.Text2World",
    inputs=[Input("prompt", PROMPT, doc="from TextEncode or PromptGuard"), model_input(), *sampling_inputs(3.0)],
    outputs=[Output("latent", LATENT, "the generated clip's latents (decode with worldgraph.tokenizer.Decode)")],
    seeded=True,
)
def Text2World(
    ctx: Context, prompt: Prompt, model: str, frames: int, steps: int, guidance: float, negative: str, seed: int,
    sigma_max: float, sampler: str, backend: str,
) -> dict[str, Latent]:
    """Generate a clip from text alone with the diffusion world model."""
    return _generate(ctx, prompt, None, model, frames, steps, guidance, negative, seed, sigma_max, sampler, backend)


@node(
    "worldgraph.wfm.Video2World",
    inputs=[
        Input("video", VIDEO, doc="what happened so far: 1 frame, or 5 (1 + 4k) frames"),
        Input("prompt", PROMPT, doc="from TextEncode or PromptGuard"),
        model_input(),
        *sampling_inputs(0.0),
    ],
    outputs=[Output("latent", LATENT, "latents of the whole clip, the given frames first")],
    seeded=True,
)
def Video2World(
    ctx: Context, video: Video, prompt: Prompt, model: str, frames: int, steps: int, guidance: float,
    negative: str, seed: int, sigma_max: float, sampler: str, backend: str,
) -> dict[str, Latent]:
    """Continue a clip: the world model generates what happens after the given frames."""
    return _generate(ctx, prompt, video, model, frames, steps, guidance, negative, seed, sigma_max, sampler,
                     backend)


@node(
    "worldgraph.wfm.ARVideo2World",
    inputs=[
        Input("video", VIDEO, doc="what happened so far: 1 frame, or 5 (1 + 4k) frames"),
        Input("prompt", PROMPT, doc="from TextEncode or PromptGuard; none: unprompted", optional=True),
        Input("frames", INT, 17, "frames of the whole clip, 1 + 4k (the given ones included)", range=(5, 17)),
        Input("temperature", FLOAT, 1.0, "softmax temperature of every token draw", range=(0.01, 5)),
        Input("top_p", FLOAT, 0.9, "nucleus sampling: draw from the smallest set of tokens with this mass",
              range=(0.01, 1)),
        Input("search", ENUM, "none", "test-time scaling: best of N continuations, or a beam search over "
              "latent frames", choices=("none", "best_of_n", "beam")),
        Input("candidates", INT, 4, "N: continuations (best_of_n) or frame proposals per step (beam)",
              range=(1, 64)),
        Input("beam_width", INT, 2, "beams kept after each latent frame (beam; divides candidates)",
              range=(1, 64)),
        Input("verifier", ENUM, "likelihood", "what picks among candidates: the model's own likelihood, the "
              "diffusion world model's denoising error, or agreement in motion with its forecast",
              choices=("likelihood", "diffusion", "forecast")),
        Input("seed", INT, -1, "sampling seed; -1 derives one from the graph seed and this node",
              range=(-1, 2**31 - 1)),
    ],
    outputs=[Output("latent", LATENT, "the whole clip's DV codes, the given frames first (decode with "
                    "worldgraph.tokenizer.Decode)"),
             Output("tokens", TOKENS, "the whole clip's token ids [T', h, w]")],
    seeded=True,
)
def ARVideo2World(
    ctx: Context, video: Video, prompt: Prompt | None, frames: int, temperature: float, top_p: float, search: str,
    candidates: int, beam_width: int, verifier: str, seed: int,
) -> dict[str, Any]:
    """Continue a clip token by token with the autoregressive world model (KV-cached), with
    optional best-of-N or beam search."""
    from worldgraph.engines.ar.api import load
    from worldgraph.engines.ar.sample import ARInputError, ARSampling

    try:
        model = load()
        settings = ARSampling(temperature, top_p, ctx.seed % 2**31 if seed < 0 else seed, search,
                              candidates if search != "none" else 1, beam_width)
        given = model.encode_video(video.frames)
        ids = model.generate([prompt.text if prompt else ""], given, settings, frames, verifier,
                             progress=ctx.progress)
    except (ARInputError, *engine_errors()) as e:
        raise NodeError(str(e)) from None
    assert model.tokenizer.fsq is not None  # load() accepts discrete tokenizers only
    codes = model.tokenizer.fsq.codes(ids)[0].numpy().astype(np.float32)
    name = model.cfg.tokenizer
    return {"latent": Latent(codes, name, frames, video.fps), "tokens": Tokens(ids[0].numpy(), name)}


# ------------------------------------------------------------------------------ post-trained: actions


def view_actions(actions: Actions, frame: str, camera: Camera | None, start: int, count: int) -> np.ndarray:
    """``count`` per-frame actions from row ``start``, in the camera's ground frame [count, 3]."""
    from worldgraph.engines.post.actions import to_view

    values = np.asarray(actions.values, float)
    if values.ndim != 2 or values.shape[1] != 3:
        raise NodeError(f"actions: expected one pusher's velocities [frames, 3], got {list(values.shape)}")
    if len(values) < start + count:
        raise NodeError(f"actions: {len(values)} rows, but the {count} frames after the given ones need rows "
                        f"{start}..{start + count - 1}")
    rows = values[start : start + count]
    if frame == "camera":
        return rows
    if camera is None:
        raise NodeError("actions are in world axes (frame = world): connect the camera they are seen from")
    return to_view(rows, camera.poses[min(start, len(camera.poses) - 1)])


def pusher_maps_for(actions: Actions, view_rows: np.ndarray, camera: Camera | None, given: int,
                    size: tuple[int, int], fps: float) -> Any:
    """Where the pusher is on the latent grid [1, 1, latent frames, h, w]: its box over the
    given frames, then moved by the actions (``view_rows``, the camera's ground frame)."""
    import torch

    from worldgraph.engines.post.actions import to_world
    from worldgraph.engines.post.pusher import maps_ahead

    if actions.corners is None:
        raise NodeError("actions: this model also needs the pusher's pose; take the actions from a Clip node "
                        "of a scene with one box pusher")
    if camera is None:
        raise NodeError("camera: this model draws the pusher through the camera; connect the clip's camera")
    if len(actions.corners) < given:
        raise NodeError(f"actions: the pusher's pose covers {len(actions.corners)} frames, "
                        f"fewer than the {given} given")
    pose = camera.poses[min(given - 1, len(camera.poses) - 1)]
    centres = actions.corners[:given].mean(axis=1)
    maps = maps_ahead(actions.corners[given - 1], centres - centres[-1], to_world(view_rows, pose), fps,
                      camera.intrinsics, pose, size)
    return torch.from_numpy(maps)[None, None]


@node(
    "worldgraph.wfm.ActionVideo2World",
    inputs=[
        Input("video", VIDEO, doc="the clip; its first `given` frames are the condition"),
        Input("actions", ACTIONS, doc="the pusher's velocity per frame (m/s), e.g. a Clip node's actions"),
        Input("camera", CAMERA, doc="the camera the actions are turned into its ground frame with (frame = world)",
              optional=True),
        Input("prompt", PROMPT, doc="what happens; none: unprompted, as the model mostly trained", optional=True),
        Input("frame", ENUM, "world", "axes of the actions: world, or the camera's ground frame "
              "(right, forward, up)", choices=("world", "camera")),
        Input("given", INT, 1, "frames given, 1 + 4k (the rest is predicted)", range=(1, 13)),
        Input("frames", INT, 17, "frames of the whole clip, 1 + 4k, at most 17", range=(5, 17)),
        Input("steps", INT, 12, "sampler steps per latent frame", range=(1, 200)),
        Input("guidance", FLOAT, 0.0, "guidance on the actions, away from standing still; 0 turns it off",
              range=(0, 10)),
        Input("sampler", ENUM, "heun", "EDM Heun (2nd order) or Euler", choices=("heun", "euler")),
        Input("seed", INT, -1, "noise seed; -1 derives one from the graph seed and this node", range=(-1, 2**31 - 1)),
    ],
    outputs=[Output("latent", LATENT, "latents of the whole clip, the given frames first (decode with "
                                      "worldgraph.tokenizer.Decode)"),
             Output("video", VIDEO, "the whole clip decoded, keeping the given frame's pixels where the "
                                    "model moves nothing (sharper than a plain decode for a still camera)")],
    seeded=True,
)
def ActionVideo2World(
    ctx: Context, video: Video, actions: Actions, camera: Camera | None, prompt: Prompt | None, frame: str,
    given: int, frames: int, steps: int, guidance: float, sampler: str, seed: int,
) -> dict[str, Latent | Video]:
    """Predict what the pusher's actions do, one latent frame (4 frames) at a time."""
    from worldgraph.engines.post.action_api import composite_frames, load_action_model, rollout
    from worldgraph.engines.post.actions import ActionInputError, chunked
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.engines.wfm.api import Sampling, WFMInputError

    if (given - 1) % 4 or (frames - 1) % 4 or frames <= given:
        raise NodeError(f"given ({given}) and frames ({frames}) must both be 1 + 4k, frames the larger")
    if len(video.frames) < given:
        raise NodeError(f"video: {len(video.frames)} frames, fewer than the {given} given")
    try:
        import torch

        model = load_action_model()
        rows = view_actions(actions, frame, camera, given - 1, frames - given)
        chunks = torch.from_numpy(chunked(rows))[None]
        z0 = model.encode_video(video.frames[:given])
        settings = Sampling(steps=steps, guidance=guidance, seed=ctx.seed % 2**31 if seed < 0 else seed,
                            method=sampler)
        maps = pusher_maps_for(actions, rows, camera, given, video.frames.shape[1:3], video.fps) \
            if model.cfg.map_channels else None
        z = rollout(model, z0, chunks, settings, text=prompt_tokens(prompt) if prompt else None,
                    progress=ctx.progress, pusher=maps)
        clip = composite_frames(model, z, video.frames[:given])[0]
    except (CheckpointError, WFMInputError, ActionInputError) as e:
        raise NodeError(str(e)) from None
    return {"latent": Latent(model.space.raw(z)[0].numpy().astype(np.float32), model.space.name, frames,
                             video.fps),
            "video": Video(clip, video.fps)}


# ------------------------------------------------------------------------------ post-trained: camera paths


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
