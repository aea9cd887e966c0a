"""``worldgraph eval action``: the action-conditioned world model against the simulator."""

from __future__ import annotations

import argparse
import json

from .cli_common import EXIT_OK, stage_progress


def eval_action(args: argparse.Namespace) -> int:
    from worldgraph.engines.post.action_api import DEFAULT, load_action_model
    from worldgraph.engines.post.action_eval import evaluate, format_table
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.engines.wfm.api import Sampling, WFMInputError
    from worldgraph.nodes import WorldgraphError

    try:
        model = load_action_model(args.model or DEFAULT)
        settings = Sampling(steps=args.steps, guidance=args.guidance, seed=args.seed)
        with stage_progress() as progress:
            result = evaluate(model, args.data, settings, args.clips, args.batch, progress)
    except (CheckpointError, WFMInputError, ValueError) as e:
        raise WorldgraphError(str(e)) from None
    print(json.dumps(result) if args.json else format_table(result))
    return EXIT_OK
