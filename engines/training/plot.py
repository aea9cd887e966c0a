"""A run's curves as a PNG (``metrics.png`` beside ``metrics.jsonl``), drawn with OpenCV:
the loss of every step (grey), its running mean (blue) and the evaluations (red), and
below them the learning rate."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..media.files import atomic_output
from . import metrics

WIDTH, HEIGHT = 1100, 760
LEFT, RIGHT, TOP = 100, 30, 60
# RGB
INK, GRID, RAW = (30, 30, 30), (225, 225, 225), (190, 190, 190)
MEAN, EVAL, LR = (25, 90, 200), (210, 40, 40), (40, 140, 40)
FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX


def running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of each value and the ``window - 1`` before it (fewer at the start)."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (sums[idx] - sums[lo]) / (idx - lo)


def ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round numbers spanning [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def label(value: float, step: float) -> str:
    """A tick's value, to the digits its spacing ``step`` needs."""
    if value == 0 or step <= 0:
        return "0" if value == 0 else f"{value:.3g}"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        digits = max(1, math.floor(math.log10(abs(value))) - math.floor(math.log10(step)))
        return f"{value:.{digits}e}"
    return f"{value:,.{max(0, -math.floor(math.log10(step)))}f}"


def window(count: int) -> int:
    """Steps in the running mean: a fifteenth of the run, 2 to 500."""
    return min(500, max(2, count // 15))


class Panel:
    """A plotting area: data (x, y) to pixels, with its grid, ticks and title."""

    def __init__(self, image: np.ndarray, box: tuple[int, int, int, int], xs: tuple[float, float],
                 ys: tuple[float, float], log: bool, title: str, x_title: str = "") -> None:
        import cv2

        self.image, self.box, self.log = image, box, log
        x0, y0, x1, y1 = box
        self.xs = xs
        self.ys = (math.log10(ys[0]), math.log10(ys[1])) if log else ys
        y_ticks = [10**t for t in ticks(*self.ys)] if log and self.ys[1] - self.ys[0] > 1 else ticks(*ys)
        x_ticks = ticks(*xs)
        for t in x_ticks:
            x = self.px(t, ys[0])[0]
            cv2.line(image, (x, y0), (x, y1), GRID, 1)
            text = label(t, x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1)
            cv2.putText(image, text, (x - 5 * len(text), y1 + 22), FONT, 0.5, INK, 1, cv2.LINE_AA)
        for i, t in enumerate(y_ticks):
            y = self.px(xs[0], t)[1]
            if y0 <= y <= y1:
                cv2.line(image, (x0, y), (x1, y), GRID, 1)
                near = y_ticks[i + 1] if i + 1 < len(y_ticks) else y_ticks[i - 1] if i else t
                text = label(t, abs(near - t) or abs(t))
                cv2.putText(image, text, (x0 - 10 - 10 * len(text), y + 5), FONT, 0.5, INK, 1, cv2.LINE_AA)
        cv2.rectangle(image, (x0, y0), (x1, y1), INK, 1)
        cv2.putText(image, title, (x0, y0 - 10), FONT, 0.6, INK, 1, cv2.LINE_AA)
        if x_title:
            cv2.putText(image, x_title, ((x0 + x1) // 2 - 20, y1 + 44), FONT, 0.55, INK, 1, cv2.LINE_AA)

    def px(self, x: float, y: float) -> tuple[int, int]:
        x0, y0, x1, y1 = self.box
        yv = math.log10(max(y, 1e-30)) if self.log else y
        fx = (x - self.xs[0]) / ((self.xs[1] - self.xs[0]) or 1)
        fy = (yv - self.ys[0]) / ((self.ys[1] - self.ys[0]) or 1)
        return int(round(x0 + fx * (x1 - x0))), int(round(y1 - fy * (y1 - y0)))

    def line(self, x: np.ndarray, y: np.ndarray, colour: tuple[int, int, int], width: int = 1) -> None:
        import cv2

        points = np.array([self.px(a, b) for a, b in zip(x, y, strict=True)], np.int32)
        if len(points) > 1:
            cv2.polylines(self.image, [points], False, colour, width, cv2.LINE_AA)
        if len(points) <= 40 or width > 1 and len(points) <= 200:
            for p in points:
                cv2.circle(self.image, (int(p[0]), int(p[1])), 3, colour, -1, cv2.LINE_AA)


def span(values: np.ndarray, log: bool) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    if log:
        return lo / 1.15, hi * 1.15
    pad = (hi - lo) * 0.06 or abs(hi) * 0.05 or 1.0
    return lo - pad, hi + pad


def draw(records: list[dict[str, Any]], title: str) -> np.ndarray:
    """The figure of a run's records, an RGB image [H, W, 3] uint8."""
    import cv2

    image = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    cv2.putText(image, title, (LEFT, 30), FONT, 0.7, INK, 2, cv2.LINE_AA)
    steps = [r for r in records if "loss" in r]
    evals = [r for r in records if "eval_loss" in r]
    if not steps:
        cv2.putText(image, "no steps logged yet", (LEFT, 200), FONT, 0.8, INK, 1, cv2.LINE_AA)
        return image
    x = np.array([r["step"] for r in steps], float)
    loss = np.array([r["loss"] for r in steps], float)
    mean = running_mean(loss, window(len(loss)))
    ex = np.array([r["step"] for r in evals], float)
    ey = np.array([r["eval_loss"] for r in evals], float)
    every = np.concatenate([loss, ey])
    log = bool(every.min() > 0 and every.max() / every.min() > 20)
    xs = (min(0.0, float(x.min())), float(max(x.max(), ex.max() if len(ex) else 0)))
    right = WIDTH - RIGHT
    top = Panel(image, (LEFT, TOP + 25, right, 520), xs, span(every, log), log,
                "loss" + (" (log scale)" if log else ""))
    top.line(x, loss, RAW)
    top.line(x, mean, MEAN, 2)
    if len(ex):
        top.line(ex, ey, EVAL, 2)
    legend = [("loss per step", RAW), (f"running mean ({window(len(loss))} steps)", MEAN)]
    legend += [("eval: shipped weights, fixed batches", EVAL)] if len(ex) else []
    at = LEFT + 120
    for text, colour in legend:
        cv2.line(image, (at, TOP + 10), (at + 30, TOP + 10), colour, 3)
        cv2.putText(image, text, (at + 36, TOP + 15), FONT, 0.5, INK, 1, cv2.LINE_AA)
        at += 36 + cv2.getTextSize(text, FONT, 0.5, 1)[0][0] + 40
    lrs = np.array([r.get("lr", 0.0) for r in steps], float)
    bottom = Panel(image, (LEFT, 580, right, 700), xs, (0.0, float(lrs.max()) * 1.1 or 1.0), False, "learning rate",
                   "step")
    bottom.line(x, lrs, LR, 2)
    return image


def plot(run_dir: Path, out: Path | None = None, title: str = "") -> Path:
    """Draw ``run_dir``'s metrics to ``out`` (default ``run_dir/metrics.png``)."""
    import cv2

    records = metrics.read(run_dir)
    steps = [r for r in records if "loss" in r]
    if not title:
        title = run_dir.name
    if steps:
        last = steps[-1]
        title += f"   step {last['step']}, {last.get('seconds', 0) / 60:.1f} min"
    image = draw(records, title)
    out = out or run_dir / "metrics.png"
    with atomic_output(out) as tmp:
        ok, data = cv2.imencode(".png", image[..., ::-1])
        tmp.write_bytes(data.tobytes())
    return out
