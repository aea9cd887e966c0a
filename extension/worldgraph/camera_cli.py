"""``worldgraph eval camera``: the camera-conditioned world model against the simulator and
the unconditioned base model."""

from __future__ import annotations

import argparse
import json

from .cli_common import EXIT_OK, stage_progress


def eval_camera(args: argparse.Namespace) -> int:
    from worldgraph.engines.post import camera_api
    from worldgraph.engines.post.camera_eval import evaluate, format_table
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.engines.wfm import api as wfm
    from worldgraph.nodes import WorldgraphError

    try:
        settings = wfm.Sampling(steps=args.steps, guidance=args.guidance, seed=args.seed)
        settings.check(["a scene"])
        camera = camera_api.load(args.model or camera_api.DEFAULT)
        base = wfm.load()
        with stage_progress() as progress:
            table = evaluate(camera, base, args.data, settings, args.clips, args.frames, args.batch,
                             progress=progress)
    except (CheckpointError, wfm.WFMInputError, ValueError) as e:
        raise WorldgraphError(str(e)) from None
    print(json.dumps(table) if args.json else format_table(table))
    return EXIT_OK
