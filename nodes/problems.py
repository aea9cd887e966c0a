"""What is wrong with a graph: one ``Problem`` per node input, all reported together."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .errors import WorldgraphError


@dataclass(frozen=True)
class Problem:
    path: str  # the node's prim path (or the graph's)
    input: str | None  # the input it concerns, if one
    code: str  # unknown-type, unknown-input, bad-value, missing-input, dangling-connection,
    #            incompatible-connection, cycle, newer-version
    reason: str
    blocks: tuple[str, ...] = ()  # the outputs that cannot be made because of it

    @property
    def where(self) -> str:
        return f"{self.path}.inputs:{self.input}" if self.input else self.path

    def __str__(self) -> str:
        text = f"{self.where}: {self.reason}"
        if self.blocks:
            shown = ", ".join(self.blocks[:4]) + (" ..." if len(self.blocks) > 4 else "")
            text += f" (blocks {shown})"
        return text

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"blocks": list(self.blocks)}


class GraphInvalid(WorldgraphError):
    """A graph failed validation; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s):"] + [f"  {p}" for p in problems]
        super().__init__("\n".join(lines))


