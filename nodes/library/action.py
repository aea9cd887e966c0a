"""worldgraph.wfm.ActionVideo2World: the world model post-trained on the pusher's actions."""

from __future__ import annotations

import numpy as np

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import ACTIONS, CAMERA, ENUM, FLOAT, INT, LATENT, PROMPT, VIDEO, Actions, Camera, Latent, Prompt, Video
from .wfm import prompt_tokens


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
                                      "worldgraph.tokenizer.Decode)")],
    seeded=True,
)
def ActionVideo2World(
    ctx: Context, video: Video, actions: Actions, camera: Camera | None, prompt: Prompt | None, frame: str,
    given: int, frames: int, steps: int, guidance: float, sampler: str, seed: int,
) -> dict[str, Latent]:
    """Predict what the pusher's actions do, one latent frame (4 frames) at a time."""
    from worldgraph.engines.post.action_api import load_action_model, rollout
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
        z = rollout(model, z0, chunks, settings, text=prompt_tokens(prompt) if prompt else None,
                    progress=ctx.progress)
    except (CheckpointError, WFMInputError, ActionInputError) as e:
        raise NodeError(str(e)) from None
    return {"latent": Latent(model.space.raw(z)[0].numpy().astype(np.float32), model.space.name, frames,
                             video.fps)}
