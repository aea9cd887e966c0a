"""Editor responsiveness, offscreen: open time and pan/zoom frame time for a generated
200-node graph, and the memory of the idle editor. Targets: open < 2 s, frame < 30 ms.

    python benchmarks/editor_speed.py [--nodes 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_graph(file: Path, count: int) -> None:
    """Chains of LoadVideo -> Canny -> BilateralBlur -> Resize -> SaveVideo, in a grid."""
    from worldgraph.nodes import Graph, save_graph

    graph = Graph("/Bench")
    kinds = ["worldgraph.io.LoadVideo", "worldgraph.controls.Canny", "worldgraph.controls.BilateralBlur",
             "worldgraph.io.Resize", "worldgraph.io.SaveVideo"]
    for i in range(count):
        column, row = i % len(kinds), i // len(kinds)
        name = f"n{i}"
        values = {"path": "clip.mp4"} if column == 0 else {}
        graph.add_node(name, kinds[column], values=values, pos=(column * 300.0, row * 150.0))
        if column:
            previous = graph.nodes[f"/Bench/n{i - 1}"]
            output = graph.registry.get(previous.type_id).schema.outputs[0].name
            graph.connect(previous.path, output, graph.resolve(name), "video")
    save_graph(graph, file)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()

    from worldgraph.ui import qt

    qt.require()
    from PySide6.QtWidgets import QApplication

    from worldgraph.ui.window import MainWindow

    app = QApplication([])
    window = MainWindow()
    window.resize(1600, 960)
    window.show()
    app.processEvents()
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "bench.usda"
        make_graph(file, args.nodes)
        start = time.perf_counter()
        window.open_file(file)
        app.processEvents()
        window.canvas.widget.grab()  # the first full paint is part of opening
        opened = time.perf_counter() - start

    viewer = window.canvas.viewer()

    def frames(kind: str) -> list[float]:
        times = []
        for i in range(args.frames):
            t0 = time.perf_counter()
            if kind == "zoom":
                f = 1.1 if i % 2 else 1 / 1.1
                viewer.scale(f, f)  # a wheel step in or out
            else:
                viewer._set_viewer_pan(40.0, 15.0)  # what a middle-drag does per mouse move
            viewer.viewport().repaint()  # paint the frame now, as a real pan or zoom does
            times.append((time.perf_counter() - t0) * 1000)
        return times

    results = {}
    window.canvas.fit_all()
    for kind in ("pan", "zoom"):  # every node on screen (small: proxy boxes)
        results[f"{kind}, whole graph on screen"] = frames(kind)
    viewer.reset_zoom(viewer.mapToScene(viewer.viewport().rect().center()))
    for kind in ("pan", "zoom"):  # 1:1, the zoom one edits at: titles, ports, labels drawn
        results[f"{kind}, 1:1 working zoom"] = frames(kind)
    app.processEvents()
    time.sleep(0.5)
    app.processEvents()
    print(f"nodes: {len(window.doc.graph.nodes)}, wires: "
          f"{sum(len(n.connections) for n in window.doc.graph.nodes.values())}")
    print(f"open (load USD + build canvas + first paint): {opened:.2f} s   (target < 2 s)")
    for name, times in results.items():
        print(f"frame, {name}: median {statistics.median(times):.1f} ms, "
              f"max {max(times):.1f} ms over {len(times)} frames   (target < 30 ms)")
    print(f"idle editor RSS: {rss_mb():.0f} MB")
    window.doc.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()
