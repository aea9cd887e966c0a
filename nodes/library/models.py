"""A model node's choice of checkpoint: the catalog's checkpoints of one family, read when
the choices are asked for (validation, the editor's combo box, ``worldgraph nodes``), so a
checkpoint added with ``worldgraph models add`` or exported a moment ago is offered."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload


class ModelChoices(Sequence[str]):
    """The names of the installed ``family`` checkpoints, ``default`` first. The default
    stays a choice when it is not installed, so graphs still load and validate; running
    it names the missing checkpoint."""

    def __init__(self, family: str, default: str) -> None:
        self.family, self.default = family, default

    def names(self) -> tuple[str, ...]:
        from worldgraph.engines import catalog  # standard library only: validation stays torch-free

        return tuple(dict.fromkeys([self.default, *catalog.names(self.family)]))

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: Any) -> Any:
        return self.names()[index]

    def __len__(self) -> int:
        return len(self.names())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, value: object) -> bool:
        return value in self.names()

    def __repr__(self) -> str:
        return f"ModelChoices({self.family!r}: {', '.join(self.names())})"
