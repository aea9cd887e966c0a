"""`worldgraph engines` and model nodes on engines: the shipped models on ONNX Runtime match
torch end to end; bad requests are clear errors."""

import json

import numpy as np

from worldgraph.cli import main
from worldgraph.nodes import Executor, load_graph
from worldgraph.nodes.library.backend import use_backend

from ..conftest import SAMPLES


def run_json(capsys, *argv: str) -> tuple[int, list[dict]]:
    code = main(list(argv))
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_verify_the_shipped_decoder_on_onnxruntime(capsys):
    code, rows = run_json(capsys, "engines", "verify", "cv4x8x8.decode", "--json")
    assert code == 0
    assert rows[0]["part"] == "cv4x8x8.decode" and rows[0]["backend"] == "onnxruntime" and rows[0]["ok"]
    assert rows[0]["max_abs_diff"] < 1e-3


def test_list_shows_parts_and_built_engines(capsys):
    main(["engines", "build", "cv4x8x8.decode"])
    capsys.readouterr()
    code, rows = run_json(capsys, "engines", "list", "--json")
    assert code == 0
    assert {"cv4x8x8.encode", "wfm-cv4x8x8.net", "prompt_guard", "minilm.tokens"} <= set(rows[0]["parts"])
    assert any(b["entry"].startswith("cv4x8x8.decode-onnx-fp32") and b["state"] == "ok" for b in rows[0]["built"])


def test_unknown_model_and_missing_backend_are_usage_errors(capsys):
    assert main(["engines", "build", "nosuch"]) == 2
    assert "no model or part 'nosuch'" in capsys.readouterr().err
    assert main(["engines", "build", "cv4x8x8", "--backend", "tensorrt"]) == 2
    assert "worldgraph[gpu]" in capsys.readouterr().err


def decoded(backend: str, tmp_path) -> dict[str, np.ndarray]:
    graph = load_graph(SAMPLES / "graphs" / "tokenizer_roundtrip.usda")
    assert len(use_backend(graph, backend)) == 4  # two encoders, two decoders
    result = Executor().run(graph, tmp_path / backend)
    assert result.status == "ok", result.failures
    return {n: result.outputs[f"/TokenizerRoundTrip/{n}"]["video"].frames for n in ("decode_cv", "decode_dv")}


def test_round_trip_graph_on_onnxruntime_matches_torch(tmp_path):
    reference, engines = decoded("torch", tmp_path), decoded("onnxruntime", tmp_path)
    for name, frames in reference.items():
        mse = ((frames.astype(float) - engines[name].astype(float)) ** 2).mean()
        assert mse == 0 or 10 * np.log10(255**2 / mse) >= 40, name


def test_a_model_node_on_a_backend_that_is_not_installed_fails_clearly(capsys, tmp_path):
    code = main(["run", str(SAMPLES / "graphs" / "tokenizer_roundtrip.usda"), "--out", str(tmp_path),
                 "--backend", "tensorrt", "--json"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    failed = [e for e in events if e["event"] == "node_failed"]
    assert failed and all("worldgraph[gpu]" in e["message"] for e in failed)
