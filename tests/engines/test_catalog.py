"""The model catalog: the search path and its clash rule, unreadable cards reported without
hiding the others, checkpoints exported mid-process, families from cards (and inferred for
old ones), the tokenizer's kind from its config, and the loaders going through it."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from worldgraph.engines import catalog, families
from worldgraph.engines import weights as files
from worldgraph.engines.tokenizer import checkpoint as tokenizers
from worldgraph.engines.tokenizer.model import PRESETS, Tokenizer, TokenizerConfig
from worldgraph.engines.tokenizer.parts import decoder, encoder


@pytest.fixture
def path(tmp_path, monkeypatch) -> list[Path]:
    """Two folders on $WORLDGRAPH_MODELS and a user folder of this test's own."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setenv(catalog.ENV, f"{first}:{second}")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return [first, second, tmp_path / "data" / "worldgraph" / "models"]


def copy(model: str, folder: Path, **changes: object) -> Path:
    """A shipped checkpoint copied into ``folder``, its card changed by ``changes``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(catalog.SHIPPED / f"{model}.safetensors", folder / f"{model}.safetensors")
    card = json.loads((catalog.SHIPPED / f"{model}.json").read_text()) | changes
    (folder / f"{model}.json").write_text(json.dumps(card))
    return folder / f"{model}.json"


def tiny(kind: str = "cv") -> Tokenizer:
    torch.manual_seed(0)
    return Tokenizer(PRESETS[f"tiny-{kind}"]).eval()


def test_every_shipped_card_names_its_family_and_name():
    for card in sorted(catalog.SHIPPED.glob("*.json")):
        meta = json.loads(card.read_text())
        assert meta.get("family") in catalog.FAMILIES and meta.get("name") == card.stem, card.name
    assert catalog.problems() == []
    assert {e.family for e in catalog.entries()} == set(catalog.FAMILIES)


def test_the_search_path_is_env_then_user_then_shipped(path):
    first, second, user = path
    assert catalog.folders() == [("env", first), ("env", second), ("user", user), ("shipped", catalog.SHIPPED)]
    copy("colours", second, note="second")
    copy("colours", user, note="user")
    found = catalog.find("colours", "colours")
    assert found.card == second / "colours.json" and found.origin == "env" and found.meta["note"] == "second"
    copy("colours", first, note="first")
    assert catalog.find("colours").meta["note"] == "first"  # earlier wins
    assert [(h.card.parent, w.card.parent) for h, w in catalog.shadowed()] == [
        (second, first), (user, first), (catalog.SHIPPED, first)]
    assert catalog.names("colours") == ["colours"]  # one name, one entry
    (first / "colours.json").unlink()
    assert catalog.find("colours").card == second / "colours.json"  # read anew: no stale listing


def test_an_unreadable_card_is_reported_and_hides_nothing(path):
    first, second, _ = path
    (first / "broken.json").write_text("{ not json")
    (first / "broken.safetensors").write_bytes(b"")
    (first / "list.json").write_text("[1, 2]")
    copy("estimate-depth", first, family="nonsense")
    copy("prompt_guard", second)
    problems = {p.card.name: p.reason for p in catalog.problems()}
    assert "cannot read the checkpoint description" in problems["broken.json"]
    assert "expected a JSON object" in problems["list.json"]
    assert "unknown family 'nonsense'" in problems["estimate-depth.json"]
    assert catalog.find("prompt_guard").card == second / "prompt_guard.json"
    assert {"cv4x8x8", "dv4x8x8"} <= set(catalog.names("tokenizer"))  # the shipped ones are all there
    assert catalog.find("estimate-depth").origin == "shipped"  # the unusable copy hides nothing
    assert tokenizers.meta("cv4x8x8")["family"] == "tokenizer"
    with pytest.raises(catalog.CheckpointError, match=r"no model checkpoint 'broken' \(.*cannot read"):
        catalog.find("broken")


def test_a_checkpoint_exported_mid_process_is_found(path):
    first = path[0]
    assert "mine" not in catalog.names("tokenizer")
    tokenizers.export(tiny("dv"), "mine", {"data": "nowhere"}, folder=first)
    assert "mine" in catalog.names("tokenizer")
    model = tokenizers.load("mine")
    assert model.cfg.kind == "dv"
    tokenizers.export(tiny("cv"), "mine", {}, folder=first)  # re-exported under the same name
    assert tokenizers.load("mine").cfg.kind == "cv"  # the new weights, not the model loaded before


def test_saving_stamps_family_and_name(tmp_path):
    tokenizers.export(tiny(), "anything", {}, folder=tmp_path)
    card = json.loads((tmp_path / "anything.json").read_text())
    assert card["family"] == "tokenizer" and card["name"] == "anything"
    from worldgraph.engines.estimate.model import Estimator, EstimatorConfig

    files.save(Estimator(EstimatorConfig(task="seg", widths=(8, 8, 8))), tmp_path / "e.safetensors",
               {"config": {"task": "seg", "widths": [8, 8, 8]}})  # no family given: inferred
    assert json.loads((tmp_path / "e.json").read_text())["family"] == "estimator"


def test_an_old_card_without_a_family_is_inferred(path):
    card = copy("ar-dv4x8x8", path[0])
    meta = json.loads(card.read_text())
    del meta["family"], meta["name"]
    card.write_text(json.dumps(meta))
    assert catalog.find("ar-dv4x8x8").family == "ar"


def test_a_card_named_unlike_its_file_is_reported(path):
    copy("colours", path[0], name="other")
    assert any("names 'other'" in p.reason for p in catalog.problems())
    assert catalog.find("colours").origin == "shipped"


def test_the_tokenizer_kind_comes_from_the_config_not_the_name(path):
    tokenizers.export(tiny("dv"), "cv-but-discrete", {}, folder=path[0])
    entry = catalog.find("cv-but-discrete", "tokenizer")
    assert entry.kind == "dv"
    latent = decoder("cv-but-discrete").inputs[0]
    assert latent.shape[1] == TokenizerConfig.from_json(entry.config).code_channels == len(PRESETS["tiny-dv"].fsq_levels)
    assert latent.sample == "uniform"  # normalized FSQ codes, not a Gaussian
    x = torch.rand(1, 3, 5, 16, 16) * 2 - 1
    part = encoder("cv-but-discrete")
    assert part.source()["sha256"] == entry.sha256
    assert torch.equal(part.module()(x), tokenizers.load("cv-but-discrete").encode(x))


def test_a_family_mismatch_is_named():
    with pytest.raises(catalog.CheckpointError, match="a tokenizer checkpoint, not a wfm one"):
        catalog.find("cv4x8x8", "wfm")
    with pytest.raises(catalog.CheckpointError, match=r"no world-model checkpoint 'nope'.*installed: wfm-cv4x8x8"):
        catalog.find("nope", "wfm")


def test_verify_catches_changed_weights_and_a_config_that_does_not_fit(path):
    first = path[0]
    card = copy("estimate-depth", first)
    entry = catalog.find("estimate-depth")
    assert entry.card == card and families.verify(entry) == []
    weights = bytearray(entry.weights.read_bytes())
    weights[-100] ^= 0xFF  # one flipped byte in the tensors
    entry.weights.write_bytes(bytes(weights))
    assert "sha256 differs" in families.verify(catalog.find("estimate-depth"))[0]
    copy("estimate-depth", first, config={"groups": 8, "task": "depth", "widths": [16, 32, 64, 128]})
    assert "weights do not match the config" in families.verify(catalog.find("estimate-depth"))[0]


def test_the_engine_parts_come_from_the_catalog(path):
    assert {"cv4x8x8.encode", "dv4x8x8-v2.decode", "wfm-cv4x8x8.net", "estimate-seg.net", "prompt_guard",
            "minilm.tokens"} <= set(families.parts())
    tokenizers.export(tiny(), "extra", {}, folder=path[0])
    assert {"extra.encode", "extra.decode"} <= set(families.parts())


def test_add_copies_a_checked_checkpoint_atomically(path, tmp_path):
    run = tmp_path / "run"
    tokenizers.export(tiny(), "my-tok", {}, folder=run)
    entry = catalog.add(run / "my-tok.json")
    assert entry.card == path[2] / "my-tok.json" and catalog.find("my-tok").origin == "user"
    assert sorted(p.name for p in path[2].iterdir()) == ["my-tok.json", "my-tok.safetensors"]  # no temporaries
    with pytest.raises(catalog.CheckpointError, match="exists: remove it first, or add with --replace"):
        catalog.add(run / "my-tok.json")
    weights = bytearray((run / "my-tok.safetensors").read_bytes())
    weights[-1] ^= 0xFF
    (run / "my-tok.safetensors").write_bytes(bytes(weights))
    with pytest.raises(catalog.CheckpointError, match="sha256 differs"):
        catalog.add(run / "my-tok.json", replace=True)
    assert catalog.find("my-tok").sha256 == entry.sha256  # the good copy stays
