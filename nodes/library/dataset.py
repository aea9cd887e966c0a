"""worldgraph.dataset: synthetic datasets on disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import DATASET, ENUM, FILE, INT, OUTPUT_FILE, RENDERS, Dataset, Renders


@node(
    "worldgraph.dataset.WriteDataset",
    inputs=[
        Input("renders", RENDERS, doc="the clips to make"),
        Input("path", OUTPUT_FILE, "dataset", "folder inside the output folder"),
        Input("workers", INT, 0, "processes; 0 uses every core", range=(0, 256)),
    ],
    outputs=[
        Output("dataset", DATASET, "the finished clips"),
        Output("folder", FILE, "the dataset folder"),
    ],
)
def WriteDataset(ctx: Context, renders: Renders, path: str, workers: int) -> dict[str, Any]:
    """Make every clip on all cores into per-clip folders with a checksummed manifest.
    Safe to kill: a re-run keeps finished clips and makes the rest."""
    import worldgraph
    from worldgraph.engines.sim.dataset import DatasetError, write_dataset

    root = ctx.output_path(path)
    versions = {"worldgraph": worldgraph.__version__}
    try:
        report = write_dataset(renders.jobs, root, workers or os.cpu_count() or 1, ctx.progress, versions)
    except DatasetError as e:
        raise NodeError(str(e)) from None
    if report.failed:
        first = next(iter(report.failed.items()))
        raise NodeError(f"{len(report.failed)} of {len(renders.jobs)} clips failed (clip {first[0]}: "
                        f"{first[1]}); the other {len(report.made) + len(report.kept)} are in {root}")
    return {"dataset": Dataset(root, tuple(sorted(report.made + report.kept))), "folder": root}


@node(
    "worldgraph.dataset.DatasetSheet",
    inputs=[
        Input("dataset", DATASET, doc="a dataset"),
        Input("path", OUTPUT_FILE, "dataset_sheet.png", "PNG file to write"),
        Input("clips", INT, 6, "rows: the first clips", range=(1, 64)),
        Input("frames", INT, 6, "columns: evenly spaced frames", range=(1, 32)),
        Input("video", ENUM, "rgb.mp4", "which video of each clip", choices=("rgb.mp4", "rgb_plain.mp4")),
    ],
    outputs=[Output("file", FILE, "the PNG written")],
)
def DatasetSheet(
    ctx: Context, dataset: Dataset, path: str, clips: int, frames: int, video: str
) -> dict[str, Path]:
    """A PNG with a row of frames per clip: the quickest look at a dataset."""
    from worldgraph.engines.media.video import write_png
    from worldgraph.engines.sim.dataset import DatasetError, preview

    try:
        image = preview(dataset.root, clips, frames, video)
    except DatasetError as e:
        raise NodeError(str(e)) from None
    target = ctx.output_path(path)
    write_png(target, image)
    return {"file": target}
