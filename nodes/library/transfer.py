"""worldgraph.transfer: the world model steered by control videos (Cosmos-Transfer1's
multi-branch ControlNet), each modality weighted by a number or a WeightMap."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import CONTROL, FLOAT, LATENT, PROMPT, VIDEO, WEIGHT_MAP, Control, Latent, Prompt, Video, WeightMap
from .backend import engine_errors
from .wfm import prompt_tokens, sampling, sampling_inputs, world_model

MODALITIES = ("vis", "edge", "depth", "seg")
DOCS = {"vis": "blurred video (BilateralBlur)", "edge": "edges (Canny)", "depth": "depth (DepthVideo)",
        "seg": "segmentation colours (SegmentationColors)"}


def _control_inputs() -> list[Input]:
    inputs = []
    for m in MODALITIES:
        inputs += [
            Input(m, CONTROL, doc=f"the {DOCS[m]} control", optional=True),
            Input(f"{m}_weight", FLOAT, 1.0, f"how strongly {m} holds; weights over 1 in total are normalized",
                  range=(0, 10)),
            Input(f"{m}_map", WEIGHT_MAP, doc=f"where and when {m} holds (times {m}_weight)", optional=True),
        ]
    return inputs


def _with_start_sigma(inputs: list[Input]) -> list[Input]:
    """Cosmos-Transfer1 starts from σ = 70 (and noises its input video to it)."""
    return [Input(i.name, i.type, 70.0, i.doc, i.range) if i.name == "sigma_max" else i for i in inputs]


@node(
    "worldgraph.transfer.Transfer",
    inputs=[
        Input("prompt", PROMPT, doc="what the clip should look like (from TextEncode or PromptGuard)"),
        *_control_inputs(),
        Input("video", VIDEO, doc="start from this video noised to sigma_max instead of pure noise (keeps its "
                                  "colours where the controls leave room)", optional=True),
        *_with_start_sigma(sampling_inputs(0.0)),
    ],
    outputs=[Output("latent", LATENT, "the generated clip's latents (decode with worldgraph.tokenizer.Decode)")],
    seeded=True,
)
def Transfer(
    ctx: Context, prompt: Prompt,
    vis: Control | None, vis_weight: float, vis_map: WeightMap | None,
    edge: Control | None, edge_weight: float, edge_map: WeightMap | None,
    depth: Control | None, depth_weight: float, depth_map: WeightMap | None,
    seg: Control | None, seg_weight: float, seg_map: WeightMap | None,
    video: Video | None, frames: int, steps: int, guidance: float, negative: str, seed: int, sigma_max: float,
    sampler: str, backend: str,
) -> dict[str, Latent]:
    """Generate a clip that follows the structure of the connected controls and the prompt's look."""
    from worldgraph.engines.transfer.api import ControlInput, transfer
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.engines.wfm.api import WFMInputError

    controls: dict[str, Any] = {
        "vis": vis, "vis_weight": vis_weight, "vis_map": vis_map, "edge": edge, "edge_weight": edge_weight,
        "edge_map": edge_map, "depth": depth, "depth_weight": depth_weight, "depth_map": depth_map, "seg": seg,
        "seg_weight": seg_weight, "seg_map": seg_map,
    }
    given = []
    for m in MODALITIES:
        control: Control | None = controls[m]
        if control is None:
            continue
        if control.kind != m:
            raise NodeError(f"input {m!r} got a {control.kind!r} control; connect it to {control.kind!r}")
        weight_map: WeightMap | None = controls[f"{m}_map"]
        weight: float | np.ndarray = controls[f"{m}_weight"] if weight_map is None else weight_map.weights
        scale = 1.0 if weight_map is None else controls[f"{m}_weight"]
        given.append(ControlInput(m, control.frames, weight, scale))
    if not given:
        raise NodeError("connect at least one control (vis, edge, depth or seg)")
    model = world_model(backend)
    settings = sampling(ctx, steps, guidance, negative, seed, sigma_max, sampler)
    try:
        z = transfer(model, prompt.text, given, settings, frames, None if video is None else video.frames,
                     prompt_tokens(prompt), ctx.progress)
    except (WFMInputError, CheckpointError, *engine_errors()) as e:
        raise NodeError(str(e)) from None
    fps = next(controls[m].fps for m in MODALITIES if controls[m] is not None)
    return {"latent": Latent(model.space.raw(z)[0].numpy().astype(np.float32), model.space.name, frames, fps)}
