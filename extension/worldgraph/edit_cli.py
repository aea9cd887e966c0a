"""``worldgraph edit``: the node-graph editor (the ``ui`` extra). Qt is imported only when
the command runs, so the rest of the CLI starts without it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_MISSING = 2


def add_parser(commands: Any) -> None:
    edit = commands.add_parser("edit", help="open the node-graph editor (needs the 'ui' extra)")
    edit.add_argument("graph", type=Path, nargs="?", help="a .usda graph file to open")
    edit.add_argument("--screenshot", type=Path, metavar="PNG",
                      help="open the graph, lay it out, write a PNG of the whole window and exit")


def cmd_edit(args: argparse.Namespace) -> int:
    if args.screenshot is not None:
        import os

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed for a PNG
    try:
        from worldgraph.ui import app, qt
    except ImportError as e:  # worldgraph.ui itself is part of the package; its deps are not
        return _missing(str(e))
    try:
        return app.main(args.graph, args.screenshot)
    except qt.MissingUI as e:
        return _missing(str(e))


def _missing(reason: str) -> int:
    print(f"error: {reason}\nthe editor is an extra: pip install 'worldgraph[ui]'", file=sys.stderr)
    return EXIT_MISSING
