"""A run's figures as JSON lines, ``metrics.jsonl`` in its folder: one line a step (loss,
learning rate, seconds, steps per second) and one per evaluation (``eval_loss``: the
shipped weights' loss on fixed batches). A resumed run drops the lines after its saved
step and appends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..media.files import atomic_output

NAME = "metrics.jsonl"


def read(run_dir: Path) -> list[dict[str, Any]]:
    """Every record of a run (lines that do not parse, a line cut by a kill, are skipped)."""
    path = run_dir / NAME
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


class MetricsLog:
    """Appends records to a run's ``metrics.jsonl`` (rank 0 only; ``enabled`` False elsewhere)."""

    def __init__(self, run_dir: Path, step: int, enabled: bool = True) -> None:
        self.path, self.enabled = run_dir / NAME, enabled
        if enabled and self.path.exists():  # keep what the saved run had done, drop the rest
            kept = [r for r in read(run_dir) if int(r.get("step", 0)) <= step]
            with atomic_output(self.path) as tmp:
                tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        self.file = self.path.open("a") if enabled else None

    def write(self, **record: Any) -> None:
        if self.file:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()
            self.file = None
