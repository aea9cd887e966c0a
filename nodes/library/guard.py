"""worldgraph.guard: the prompt pre-guard and the video post-guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..context import Context
from ..errors import Blocked, NodeError
from ..schema import Input, Output, node
from ..types import ASSET, BOOL, FLOAT, INT, PROMPT, STRING, VERDICT, VIDEO, Prompt, Verdict, Video
from .backend import backend_input, engine_errors


@node(
    "worldgraph.guard.PromptGuard",
    inputs=[
        Input("text", STRING, "", "the prompt to check"),
        Input("prompt", PROMPT, doc="a prompt made upstream (a clip's caption, say), checked instead of text",
              optional=True),
        Input("blocklist", BOOL, True, "run the blocklist stage"),
        Input("classifier", BOOL, True, "run the learned classifier stage"),
        Input("threshold", FLOAT, 0.5, "classifier: block at this unsafe probability or more", range=(0, 1)),
        Input("block_list", ASSET, doc="extra blocked words, one a line ([category] headers)", optional=True),
        Input("allow_list", ASSET, doc="extra allowed phrases, one a line", optional=True),
        Input("block", BOOL, True, "stop the nodes that need the prompt when it is unsafe"),
        backend_input(),
    ],
    outputs=[
        Output("prompt", PROMPT, "the prompt, when it passed (or when block is off)"),
        Output("verdict", VERDICT, "safe or not, which stage, categories, why"),
    ],
)
def PromptGuard(
    ctx: Context, text: str, prompt: Prompt | None, blocklist: bool, classifier: bool, threshold: float,
    block_list: Path | None, allow_list: Path | None, block: bool, backend: str,
) -> dict[str, Any]:
    """Check a prompt: blocklist (folded, lemmatized, fuzzy) then a MiniLM classifier."""
    text = prompt.text if prompt is not None else text
    from worldgraph.engines.guard.blocklist import ListError
    from worldgraph.engines.guard.prompt import guard_for

    try:
        guard = guard_for(blocklist, classifier, threshold,
                          tuple(p for p in [block_list] if p), tuple(p for p in [allow_list] if p), backend)
        result = guard.check(text)
    except (ListError, *engine_errors()) as e:
        raise NodeError(str(e)) from None
    if not result.safe and block:  # the run's result says why, and which stages ran with which settings
        raise Blocked(f"{result.reason} [{'; '.join(result.guards)}]")
    verdict = Verdict(result.safe, (result.reason,), result.categories, result.stage, result.score, result.guards)
    return {"prompt": Prompt(text), "verdict": verdict}


@node(
    "worldgraph.guard.FaceBlur",
    inputs=[
        Input("video", VIDEO, doc="frames to protect"),
        Input("min_neighbors", INT, 5, "detector confidence: higher finds fewer, surer faces", range=(1, 30)),
        Input("hold", INT, 3, "keep a face covered this many frames around each detection", range=(0, 60)),
        Input("min_confidence", FLOAT, 2.5, "detector weight a face needs; lower finds more", range=(0, 20)),
    ],
    outputs=[Output("video", VIDEO, "the frames with every face pixelated")],
)
def FaceBlur(ctx: Context, video: Video, min_neighbors: int, hold: int, min_confidence: float) -> dict[str, Video]:
    """Find faces (frontal and profile) on every frame and pixelate them (5x5 blocks)."""
    from worldgraph.engines.guard.faces import blur_faces

    frames, _ = blur_faces(video.frames, min_neighbors, hold, min_confidence, ctx.progress)
    return {"video": Video(frames, video.fps)}
