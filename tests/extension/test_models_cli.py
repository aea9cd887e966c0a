"""`worldgraph models`: list, show, verify and add through the CLI; a checkpoint added is
offered by the nodes; the help and the README's model table come from the catalog and the
recipe tables."""

import json
import re
import shutil

import numpy as np
import pytest
import torch

from worldgraph.cli import main
from worldgraph.engines import catalog
from worldgraph.engines.media.video import write_video
from worldgraph.engines.tokenizer import checkpoint as tokenizers
from worldgraph.engines.tokenizer.model import PRESETS, Tokenizer
from worldgraph.nodes import Graph, default_registry, load_graph, validate
from worldgraph.nodes.usd_graph import save_graph

from ..conftest import ROOT


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """A folder on $WORLDGRAPH_MODELS and a user folder of this test's own."""
    env = tmp_path / "models"
    env.mkdir()
    monkeypatch.setenv(catalog.ENV, str(env))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return env, tmp_path / "data" / "worldgraph" / "models"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def copy(model: str, folder) -> None:
    for suffix in (".json", ".safetensors"):
        shutil.copyfile(catalog.SHIPPED / f"{model}{suffix}", folder / f"{model}{suffix}")


def test_list_names_every_shipped_model(capsys, folders):
    code, out, err = run(capsys, "models", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and err == "" and listed["problems"] == []
    names = {m["name"]: m for m in listed["models"]}
    assert {"cv4x8x8", "dv4x8x8-v2", "wfm-cv4x8x8", "controlnet-edge", "ar-dv4x8x8", "prompt_guard"} <= set(names)
    assert names["dv4x8x8"]["kind"] == "dv" and names["wfm-cv4x8x8-v2"]["made_from"] == "wfm-cv4x8x8"
    assert names["controlnet-seg"]["base"] == "wfm-cv4x8x8"
    assert names["ar-dv4x8x8"]["metrics"]["heldout_next_token_loss"]["future_frames"] > 0
    assert [f["origin"] for f in listed["folders"]] == ["env", "user", "shipped"]
    code, out, _ = run(capsys, "models", "list", "--family", "tokenizer")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["cv4x8x8", "cv4x8x8-v2", "dv4x8x8",
                                                                           "dv4x8x8-v2"]
    assert run(capsys, "models", "list", "--family", "nope")[0] == 2


def test_show_one_card(capsys, folders):
    code, out, _ = run(capsys, "models", "show", "controlnet-depth")
    assert code == 0 and "builds on    wfm-cv4x8x8" in out and "controlnet-joint-floor" in out
    code, out, _ = run(capsys, "models", "show", "prompt_guard", "--json")
    assert code == 0 and json.loads(out)["family"] == "guard"
    code, _, err = run(capsys, "models", "show", "nosuch")
    assert code == 2 and "no model checkpoint 'nosuch'" in err


def test_a_corrupt_card_is_reported_and_the_rest_still_work(capsys, folders):
    env, _ = folders
    (env / "broken.json").write_text('{"family": "tokenizer", ')
    (env / "broken.safetensors").write_bytes(b"\0" * 8)
    code, out, err = run(capsys, "models", "list")
    assert code == 0 and "cv4x8x8" in out and "unusable checkpoint card" in err and "broken.json" in err
    assert run(capsys, "models", "verify", "estimate-seg")[0] == 0  # the others load
    code, out, err = run(capsys, "models", "verify", "--json")  # every one: the broken card fails the check
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and [r["card"] for r in rows if not r["ok"]] == [str(env / "broken.json")]
    assert sum(r["ok"] for r in rows) == len(catalog.entries()) >= 18


def test_verify_detects_a_changed_weights_file(capsys, folders):
    env, _ = folders
    copy("prompt_guard", env)
    code, out, _ = run(capsys, "models", "verify", "prompt_guard")
    assert code == 0 and f"ok: prompt_guard (guard, {env / 'prompt_guard.json'})" in out
    weights = bytearray((env / "prompt_guard.safetensors").read_bytes())
    weights[len(weights) // 2] ^= 0x01  # one bit of one weight
    (env / "prompt_guard.safetensors").write_bytes(bytes(weights))
    code, out, err = run(capsys, "models", "verify", "prompt_guard", "colours")
    assert code == 1 and "DAMAGED prompt_guard" in err and "sha256 differs" in err and "ok: colours" in out
    code, out, _ = run(capsys, "models", "verify", "prompt_guard", "--json")
    assert code == 1 and json.loads(out)["ok"] is False


def tiny_tokenizer(folder, name: str):
    torch.manual_seed(0)
    return tokenizers.export(Tokenizer(PRESETS["tiny-dv"]).eval(), name, {"data": "tests"}, folder=folder)


def roundtrip_graph(tmp_path, model: str):
    write_video(tmp_path / "clip.mp4", np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), np.uint8), 8.0)
    g = Graph("/Mine", registry=default_registry(), base_dir=tmp_path)
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": "clip.mp4"})
    g.add_node("encode", "worldgraph.tokenizer.Encode", values={"model": "dv4x8x8", "backend": "torch"})
    g.add_node("decode", "worldgraph.tokenizer.Decode", values={"backend": "torch"})
    g.connect("load", "video", "encode", "video")
    g.connect("encode", "latent", "decode", "latent")
    save_graph(g, tmp_path / "mine.usda")
    text = (tmp_path / "mine.usda").read_text()
    assert text.count('"dv4x8x8"') == 1
    (tmp_path / "mine.usda").write_text(text.replace('"dv4x8x8"', f'"{model}"'))  # as a user's editor would
    return tmp_path / "mine.usda"


def test_an_added_checkpoint_is_offered_by_the_nodes(capsys, folders, tmp_path):
    _, user = folders
    weights = tiny_tokenizer(tmp_path / "run", "my-tokenizer")
    graph = roundtrip_graph(tmp_path, "my-tokenizer")
    code, _, err = run(capsys, "validate", str(graph))
    assert code == 2 and "'my-tokenizer' is not one of cv4x8x8" in err
    code, out, _ = run(capsys, "models", "add", str(weights.with_suffix(".json")))
    assert code == 0 and f"added my-tokenizer (tokenizer) to {user}" in out
    assert (user / "my-tokenizer.safetensors").read_bytes() == weights.read_bytes()
    assert run(capsys, "validate", str(graph)) == (0, f"ok: {graph} (3 nodes)\n", "")
    assert validate(load_graph(graph)) == []
    code, out, _ = run(capsys, "nodes", "worldgraph.tokenizer.Encode", "--json")
    model = next(i for i in json.loads(out)[0]["inputs"] if i["name"] == "model")
    assert model["default"] == "cv4x8x8" and {"my-tokenizer", "dv4x8x8-v2"} <= set(model["choices"])
    code, out, _ = run(capsys, "run", str(graph), "--out", str(tmp_path / "out"), "--json")
    assert code == 0 and json.loads(out.splitlines()[-1])["status"] == "ok"
    code, _, err = run(capsys, "models", "add", str(weights.with_suffix(".json")))
    assert code == 2 and "exists: remove it first, or add with --replace" in err
    assert run(capsys, "models", "add", str(weights.with_suffix(".json")), "--replace")[0] == 0


def test_add_refuses_what_is_not_a_checkpoint(capsys, folders, tmp_path):
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    (tmp_path / "notes.safetensors").write_bytes(b"")
    code, _, err = run(capsys, "models", "add", str(tmp_path / "notes.json"))
    assert code == 2 and "no family" in err
    code, _, err = run(capsys, "models", "add", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read the checkpoint description" in err
    assert not folders[1].exists()


def test_train_and_eval_help_list_the_recipes_and_models(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for recipe in ("controlnet-joint-floor", "ar-dv4x8x8-gpu-extend", "dv4x8x8-v2-balanced", "action-pusher-cv4x8x8",
                   "camera-cv4x8x8", "estimate-seg", "wfm-cv4x8x8-v2"):
        assert recipe in text, recipe
    assert "tiny-" not in text  # test recipes are not offered
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = capsys.readouterr().out
    assert re.search(r"controlnet\s+controlnet-depth, controlnet-edge, controlnet-seg, controlnet-vis", text)


def test_the_readme_model_table_is_the_catalogs(capsys, monkeypatch):
    monkeypatch.delenv(catalog.ENV, raising=False)
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- models: worldgraph models list --markdown -->\n(.*?)<!-- /models -->", readme, re.S)
    assert found, "README.md lost its generated model table"
    assert main(["models", "list", "--markdown"]) == 0
    assert found.group(1) == capsys.readouterr().out, \
        "the README's model table is stale: paste the output of `worldgraph models list --markdown` between its markers"
