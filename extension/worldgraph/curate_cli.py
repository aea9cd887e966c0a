"""``worldgraph curate``: a folder of raw videos into sharded, filtered training clips.

Exit codes: 0 clips were kept (skipped inputs and dropped clips are in the report),
1 the run finished but kept no clip (every input skipped, or every clip dropped),
2 bad usage: a missing input, an unreadable or invalid config, an unwritable --out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EPILOG = """exit codes:
  0    clips were kept (skipped inputs and dropped clips are listed in report.json)
  1    the run finished but kept no clip
  2    missing input, bad config or unwritable output folder
  130  cancelled (Ctrl-C)
"""


def add_parser(commands: Any) -> None:
    curate = commands.add_parser(
        "curate", help="cut videos into shots and clips, filter, deduplicate, caption and shard them",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    curate.add_argument("inputs", type=Path, nargs="+", metavar="IN",
                        help="video files, folders of videos, or worldgraph dataset folders")
    curate.add_argument("--out", type=Path, required=True, help="output folder (clips/, manifest.jsonl, shards/)")
    curate.add_argument("--config", type=Path, help="a TOML file of settings (keys at the top or under [curate])")
    curate.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="override one setting, e.g. --set min_motion=0.002 (repeatable)")
    curate.add_argument("--json", action="store_true", help="the summary as JSON on stdout")


def parse_sets(sets: list[str]) -> dict[str, Any]:
    import tomllib

    from worldgraph.nodes import WorldgraphError

    values: dict[str, Any] = {}
    for item in sets:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise WorldgraphError(f"--set {item!r}: expected KEY=VALUE")
        try:
            values[key.strip()] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            values[key.strip()] = text.strip()  # a bare word: a string setting
        except RecursionError:  # tomllib nests one Python call per bracket
            raise WorldgraphError(f"--set {key.strip()}: the value nests arrays too deeply") from None
    return values


def cmd_curate(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from worldgraph.engines.curate import CurateConfig, CurateError, curate, load_config
    from worldgraph.engines.curate.pipeline import make_config
    from worldgraph.nodes import WorldgraphError

    from .cli_common import stage_progress

    try:
        overrides = parse_sets(args.sets)
        unknown = sorted(set(overrides) - {f.name for f in fields(CurateConfig)})
        if unknown:
            raise WorldgraphError(f"--set: unknown setting(s) {', '.join(unknown)}")
        config = load_config(args.config, **overrides) if args.config else make_config(overrides, "--set")

        def log(message: str) -> None:
            print(message, file=sys.stderr, flush=True)

        with stage_progress() as progress:
            report = curate(args.inputs, args.out, config, progress, log)
    except CurateError as e:
        raise WorldgraphError(str(e)) from None
    summary = report.summary()
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        dropped = ", ".join(f"{n} {name}" for name, n in sorted(summary["dropped"].items())) or "none"
        print(f"{summary['kept']} clips kept from {summary['inputs'] - summary['skipped']} of {summary['inputs']} "
              f"inputs ({summary['video_minutes']:g} min of video, {summary['elapsed_s']:g} s); dropped: {dropped}; "
              f"{summary['shards']} shard(s), {summary['uncaptioned']} clip(s) need a caption")
        print(f"report: {report.out / 'report.json'}")
    return 0 if report.clips else 1
