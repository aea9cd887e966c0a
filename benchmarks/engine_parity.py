"""End-to-end parity of ONNX Runtime with torch through the sample graphs: each graph run
twice, every model node on torch, then on onnxruntime (fp32), and the PSNR of the
outputs compared; the prompt guard's decisions on its held-out prompts (fp32 and int8).

    python benchmarks/engine_parity.py [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from worldgraph.nodes import Executor, load_graph
from worldgraph.nodes.library.backend import use_backend

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "graphs"
GRAPHS = {  # graph -> the nodes whose videos are compared
    "tokenizer_roundtrip.usda": ("/TokenizerRoundTrip/decode_cv", "/TokenizerRoundTrip/decode_dv"),
    "video2world.usda": ("/Video2World/decode",),
}


def videos(graph_file: str, backend: str, nodes: tuple[str, ...]) -> dict[str, np.ndarray]:
    graph = load_graph(SAMPLES / graph_file)
    use_backend(graph, backend)
    with tempfile.TemporaryDirectory() as out:
        result = Executor().run(graph, Path(out))
    if result.status != "ok":
        raise SystemExit(f"{graph_file} on {backend}: {result.status} {result.failures}")
    return {n: result.outputs[n]["video"].frames for n in nodes}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def guard_decisions(backend: str, precision: str = "auto") -> tuple[list[bool], list[int]]:
    """Block decisions (unsafe >= 0.5) and likeliest classes on the held-out prompts."""
    from worldgraph.engines.guard.classifier import load_prompts, part
    from worldgraph.engines.runtime import engine
    from worldgraph.engines.text import SENTENCE_TOKENS, minilm

    texts = [r["prompt"] for r in load_prompts() if r["split"] != "train"]
    run = engine(part(), backend, precision)
    p = np.concatenate([run(*minilm().ids(texts[i : i + 64], SENTENCE_TOKENS)).numpy()
                        for i in range(0, len(texts), 64)])
    return list(1 - p[:, 0] >= 0.5), list(p.argmax(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {}
    for graph_file, nodes in GRAPHS.items():
        reference = videos(graph_file, "torch", nodes)
        engine_out = videos(graph_file, "onnxruntime", nodes)
        for node in nodes:
            a, b = reference[node], engine_out[node]
            value = psnr(a, b)
            differing = float((a != b).mean())
            report[f"{graph_file}:{node}"] = {"psnr_db": value, "pixels_differing": differing}
            print(f"{graph_file} {node}: onnxruntime vs torch PSNR {value:.1f} dB, "
                  f"{differing:.4%} of pixel values differ", flush=True)
    want, want_class = guard_decisions("torch")
    for precision in ("fp32", "int8"):
        got, got_class = guard_decisions("onnxruntime", precision)
        same = sum(a == b for a, b in zip(want, got, strict=True))
        same_class = sum(a == b for a, b in zip(want_class, got_class, strict=True))
        report[f"prompt_guard_{precision}"] = {"prompts": len(want), "same_decisions": same,
                                               "same_classes": same_class}
        print(f"prompt guard, onnxruntime {precision}: {same}/{len(want)} block decisions and "
              f"{same_class}/{len(want)} likeliest classes identical to torch (held-out prompts)")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
