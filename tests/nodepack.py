"""A small node pack for the runtime tests: arithmetic, failure, blocking, slow loops and
randomness, so the executor's behaviour can be checked without any heavy node."""

from __future__ import annotations

from worldgraph.nodes import Blocked, Context, Input, NodeError, Output, node
from worldgraph.nodes.types import FLOAT, INT, STRING

CALLS: list[str] = []  # paths of nodes whose compute ran, in order


@node("test.math.Const", inputs=[Input("value", FLOAT, 0.0)], outputs=[Output("out", FLOAT)])
def Const(ctx: Context, value: float) -> dict[str, float]:
    """A constant."""
    CALLS.append(ctx.path)
    return {"out": float(value)}


@node(
    "test.math.Add",
    inputs=[Input("a", FLOAT, 0.0), Input("b", FLOAT, 0.0, range=(-1000, 1000))],
    outputs=[Output("sum", FLOAT)],
)
def Add(ctx: Context, a: float, b: float) -> dict[str, float]:
    """a + b."""
    CALLS.append(ctx.path)
    return {"sum": float(a + b)}


@node("test.math.Needs", inputs=[Input("x", FLOAT)], outputs=[Output("out", FLOAT)])
def Needs(ctx: Context, x: float) -> dict[str, float]:
    """A required input."""
    CALLS.append(ctx.path)
    return {"out": x}


@node("test.math.Fail", inputs=[Input("x", FLOAT, 1.0)], outputs=[Output("out", FLOAT)])
def Fail(ctx: Context, x: float) -> dict[str, float]:
    """Always fails."""
    CALLS.append(ctx.path)
    raise NodeError(f"cannot handle x={x}")


@node("test.math.Crash", inputs=[Input("x", FLOAT, 1.0)], outputs=[Output("out", FLOAT)])
def Crash(ctx: Context, x: float) -> dict[str, float]:
    """Fails with a plain Python error."""
    CALLS.append(ctx.path)
    return {"out": x / 0}


@node("test.guard.Gate", inputs=[Input("x", FLOAT, 0.0), Input("reason", STRING, "")],
      outputs=[Output("out", FLOAT)])
def Gate(ctx: Context, x: float, reason: str) -> dict[str, float]:
    """Blocks when given a reason."""
    CALLS.append(ctx.path)
    if reason:
        raise Blocked(reason)
    return {"out": x}


@node("test.loop.Slow", inputs=[Input("steps", INT, 5), Input("x", FLOAT, 0.0)],
      outputs=[Output("out", FLOAT)])
def Slow(ctx: Context, steps: int, x: float) -> dict[str, float]:
    """A long loop that reports progress (and so can be cancelled)."""
    CALLS.append(ctx.path)
    for i in range(steps):
        ctx.progress(i + 1, steps)
    return {"out": x + steps}


@node("test.random.Noise", inputs=[Input("scale", FLOAT, 1.0)], outputs=[Output("out", FLOAT)],
      seeded=True)
def Noise(ctx: Context, scale: float) -> dict[str, float]:
    """A seeded random number."""
    CALLS.append(ctx.path)
    return {"out": float(ctx.rng().normal() * scale)}


@node("test.random.Clock", inputs=[Input("x", FLOAT, 0.0)], outputs=[Output("out", FLOAT)],
      deterministic=False)
def Clock(ctx: Context, x: float) -> dict[str, float]:
    """Not deterministic: never cached."""
    CALLS.append(ctx.path)
    import time

    return {"out": time.perf_counter() + x}


def _upgrade_scale(old_version: int, values: dict) -> dict:
    if old_version < 2 and "factor" in values:  # v2 renamed factor -> gain
        values["gain"] = values.pop("factor")
    return values


@node("test.math.Scale", inputs=[Input("x", FLOAT, 0.0), Input("gain", FLOAT, 1.0)],
      outputs=[Output("out", FLOAT)], version=2, upgrade=_upgrade_scale)
def Scale(ctx: Context, x: float, gain: float) -> dict[str, float]:
    """x * gain (version 2: the input was called factor in version 1)."""
    CALLS.append(ctx.path)
    return {"out": x * gain}


TYPES = [Const, Add, Needs, Fail, Crash, Gate, Slow, Noise, Clock, Scale]
