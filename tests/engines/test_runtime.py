"""Engines: ONNX export with dynamic axes, ONNX Runtime parity, the engine cache (reuse,
rebuild of stale or corrupt entries, unwritable folders), input checks, missing backends."""

import os
import shutil
from pathlib import Path

import pytest
import torch

from worldgraph.engines.guard.classifier import part as guard_part
from worldgraph.engines.runtime import EngineError, build, key_for, resolve
from worldgraph.engines.runtime.backends import OrtEngine
from worldgraph.engines.runtime.spec import BATCH, Axis, EngineInputError, Part, Port
from worldgraph.engines.tokenizer.model import PRESETS, Tokenizer
from worldgraph.engines.tokenizer.parts import TokenizerHalf


def tiny_encoder() -> torch.nn.Module:
    torch.manual_seed(0)
    model = Tokenizer(PRESETS["tiny-cv"])
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return TokenizerHalf(model.eval(), "encode")


def tiny_part(sha: str = "a" * 64) -> Part:
    """A real (tiny, random) tokenizer encoder described like a shipped part."""
    frames, side = Axis("frames", 1, 9, 17, step=4, offset=1), Axis("height", 8, 32, 64, step=8)
    module = tiny_encoder()
    return Part("tiny-cv.encode", "test", (Port("video", "float32", (BATCH, 3, frames, side, side)),), ("latent",),
                lambda: module, lambda: {"sha256": sha, "config": {"name": "tiny-cv"}}, tolerance=1e-4)


class Notices(list):
    def __call__(self, message: str) -> None:
        self.append(message)


@pytest.fixture(scope="module")
def part() -> Part:
    return tiny_part()


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("engines")


@pytest.fixture(scope="module")
def ort_engine(part, cache):
    return build(part, "onnxruntime", root=cache)


def test_onnxruntime_matches_torch_at_every_size(part, ort_engine):
    reference = build(part, "torch")
    for sizes in ({"batch": 1}, {"batch": 3, "frames": 17, "height": 16}, {"frames": 1, "height": 8}):
        x = part.example(sizes)
        assert (ort_engine(*x) - reference(*x)).abs().max() < 1e-4, sizes
    assert ort_engine(*part.example({"frames": 5}))[0].shape[1] == 2  # 1 + 4k frames -> 1 + k latents


def test_export_records_what_it_was_built_from(part, cache, ort_engine):
    from worldgraph.engines.export.onnx import metadata

    meta = metadata(next(cache.glob("tiny-cv.encode-onnx-fp32-*")) / "model.onnx")
    assert meta["worldgraph.part"] == "tiny-cv.encode"
    assert meta["worldgraph.checkpoint_sha256"] == "a" * 64
    assert meta["worldgraph.opset"] == "23"


def test_valid_cache_entry_is_reused(part, cache, ort_engine):
    notices = Notices()
    build(part, "onnxruntime", root=cache, notice=notices)
    assert notices == []


def copy_entries(cache: Path, to: Path) -> Path:
    """The fp32 entry of the module's cache, copied to ``to`` (exports are slow)."""
    source = next(cache.glob("tiny-cv.encode-onnx-fp32-*"))
    shutil.copytree(source, to / source.name)
    return to / source.name


def test_truncated_cache_entry_is_rebuilt_not_used(part, cache, ort_engine, tmp_path):
    model = copy_entries(cache, tmp_path) / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    notices = Notices()
    engine = build(part, "onnxruntime", root=tmp_path, notice=notices)
    assert any("corrupt or truncated" in n for n in notices)
    x = part.example()
    assert (engine(*x) - build(part, "torch")(*x)).abs().max() < 1e-4


def test_engine_from_another_checkpoint_is_not_used(part, cache, ort_engine, tmp_path):
    retrained = tiny_part(sha="b" * 64)
    old, new = key_for(part, "onnx", "fp32"), key_for(retrained, "onnx", "fp32")
    assert old.folder_name != new.folder_name  # a retrained model never finds the old files
    # the old files copied under the new checkpoint's name are caught by their record
    copy_entries(cache, tmp_path).rename(tmp_path / new.folder_name)
    notices = Notices()
    engine = build(retrained, "onnxruntime", root=tmp_path, notice=notices)
    assert any("built for another checkpoint" in n for n in notices)
    from worldgraph.engines.export.onnx import metadata

    assert metadata(tmp_path / new.folder_name / "model.onnx")["worldgraph.checkpoint_sha256"] == "b" * 64
    assert engine.part is retrained


def test_truncated_onnx_file_is_a_clear_error(part, tmp_path, ort_engine, cache):
    source = next(cache.glob("tiny-cv.encode-onnx-fp32-*")) / "model.onnx"
    broken = tmp_path / "model.onnx"
    broken.write_bytes(source.read_bytes()[:1000])
    with pytest.raises(EngineError, match=r"model\.onnx: ONNX Runtime cannot load it .*truncated"):
        OrtEngine(part, broken)


def test_unwritable_cache_folder_is_a_clear_error(part, tmp_path):
    if os.geteuid() == 0:  # root writes through permissions: use a read-only filesystem
        root = Path("/sys/worldgraph-engines")
        try:
            root.mkdir()
            root.rmdir()
            pytest.skip("no read-only filesystem to test with")
        except OSError:
            pass
    else:
        root = tmp_path / "locked"
        root.mkdir()
        root.chmod(0o500)
    with pytest.raises(EngineError, match=r"cannot write the engine cache at .*WORLDGRAPH_ENGINE_CACHE"):
        build(part, "onnxruntime", root=root)


@pytest.mark.parametrize(("inputs", "message"), [
    ((torch.zeros(1, 3, 9, 32, 32, dtype=torch.int64),), r"input 'video' takes float32 .* got int64"),
    ((torch.zeros(3, 9, 32, 32),), r"got 4 dimensions"),
    ((torch.zeros(1, 3, 8, 32, 32),), r"frames=1 \+ 4k .* got \[1, 3, 8, 32, 32\]"),
    ((torch.zeros(1, 4, 9, 32, 32),), r"got \[1, 4, 9, 32, 32\]"),
    ((torch.zeros(1, 3, 9, 32, 32), torch.zeros(1)), r"takes 1 inputs \(video\), got 2"),
])
def test_wrong_inputs_are_refused_on_every_backend(part, ort_engine, inputs, message):
    for engine in (ort_engine, build(part, "torch")):
        with pytest.raises(EngineInputError, match=message):
            engine(*inputs)


def test_shared_axes_must_agree():
    guard = guard_part()
    with pytest.raises(EngineInputError, match="batch 2 where another input has 1"):
        guard.check((torch.ones(1, 5, dtype=torch.int64), torch.ones(2, 5, dtype=torch.int64)))


def test_missing_backends_name_what_to_install():
    with pytest.raises(EngineError, match=r"worldgraph\[gpu\]"):
        resolve("tensorrt")
    with pytest.raises(EngineError, match=r"no cuda provider .*worldgraph\[gpu\]"):
        build(tiny_part(), "onnxruntime", provider="cuda")
    with pytest.raises(EngineError, match="unknown backend 'tpu'"):
        resolve("tpu")
    with pytest.raises(EngineError, match=r"torch runs fp32, not int8"):
        resolve("torch", "int8")


def test_int8_quantized_engine_runs_close_to_torch(part, cache):
    int8 = build(part, "onnxruntime", "int8", root=cache)
    assert int8.precision == "int8"
    x = part.example()
    diff = (int8(*x) - build(part, "torch")(*x)).abs().max()
    assert 0 < diff < 0.1  # quantized: close, not identical
    assert list(cache.glob("tiny-cv.encode-onnx-int8-*/model.int8.onnx"))
