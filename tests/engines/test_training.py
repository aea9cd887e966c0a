"""The training loop every family runs on: exact resume, metrics and their plot, batch
slices, recipes given by name, object or file."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from worldgraph.cli import main
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.training import Launch, register_recipe, resolve, train
from worldgraph.engines.training.metrics import read
from worldgraph.engines.training.parallel import Group, split
from worldgraph.engines.wfm.edm import Condition
from worldgraph.engines.wfm.train import Recipe, WorldModel


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("loopdata")
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=21, count=2), ClipSettings(frames=17)),
                  root, workers=1)
    return root


def weights(run):
    return {k: v for k, v in load_file(str(run / "last.safetensors")).items() if not k.startswith("rng.")}


def test_a_resumed_run_takes_the_steps_of_an_unbroken_one(clips, tmp_path):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    train(WorldModel, "tiny-wfm", clips, whole, Launch(steps=4))
    (halves).mkdir()
    (halves / "latents.safetensors").write_bytes((whole / "latents.safetensors").read_bytes())
    train(WorldModel, "tiny-wfm", clips, halves, Launch(steps=2))
    train(WorldModel, "tiny-wfm", clips, halves, Launch(steps=4))  # the model, AdamW, EMA and the generators
    a, b = weights(whole), weights(halves)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((whole / "last.json").read_text())["losses"] == json.loads((halves / "last.json").read_text())[
        "losses"]


def test_every_step_and_evaluation_is_a_json_line_and_the_curves_a_png(clips, tmp_path, capsys):
    import cv2

    train(WorldModel, "tiny-wfm", clips, tmp_path, Launch(steps=3, evals=3))
    records = read(tmp_path)
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3] and all(r["lr"] > 0 and r["steps_per_s"] > 0 for r in steps)
    assert [r["step"] for r in records if "eval_loss" in r] == [1, 2, 3]
    image = cv2.imread(str(tmp_path / "metrics.png"))
    assert image is not None and image.shape == (760, 1100, 3) and (image < 128).any()
    (tmp_path / "metrics.png").unlink()
    assert main(["train", "wfm", "--run", str(tmp_path), "--plot"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "metrics.png") and (tmp_path / "metrics.png").exists()


def test_a_resumed_run_drops_the_lines_of_steps_it_did_not_save(clips, tmp_path):
    train(WorldModel, "tiny-wfm", clips, tmp_path, Launch(steps=2, evals=0))
    with (tmp_path / "metrics.jsonl").open("a") as f:  # a step logged after the last save, then killed
        f.write(json.dumps({"step": 3, "loss": 9.0}) + "\n" + '{"step": 4, "lo')
    train(WorldModel, "tiny-wfm", clips, tmp_path, Launch(steps=3, evals=0))
    assert [(r["step"], r["loss"] != 9.0) for r in read(tmp_path)] == [(1, True), (2, True), (3, True)]


def test_a_batch_splits_into_each_process_slice_and_micro_batches():
    cond = Condition(torch.arange(8.0)[:, None], torch.ones(8, 1, dtype=torch.bool), sigma_aug=0.5,
                     signals={"rays": torch.arange(8)})
    batch = (torch.arange(8), cond, 3)
    parts = split(batch, Group(rank=1, world=2), accumulate=2)
    assert [p[0].tolist() for p in parts] == [[4, 5], [6, 7]]
    assert parts[1][1].signals["rays"].tolist() == [6, 7] and parts[1][1].sigma_aug == 0.5 and parts[1][2] == 3
    with pytest.raises(ValueError, match="a batch of 8 does not split into 3 process"):
        split(batch, Group(rank=0, world=3), 1)
    with pytest.raises(ValueError, match=r"shape \(3,\) is not batch-major"):
        split((torch.arange(8), torch.arange(3)), Group(rank=0, world=2), 1)


def test_recipes_by_name_object_or_file(tmp_path):
    assert resolve(WorldModel, "wfm-cv4x8x8")[1].steps == 30_000
    (tmp_path / "big.json").write_text(json.dumps({"from": "wfm-cv4x8x8-gpu", "batch": 1024, "given_frames": [0, 0.5,
                                                                                                               0.5]}))
    name, recipe = resolve(WorldModel, tmp_path / "big.json")
    assert recipe.batch == 1024 and recipe.lr == 7e-4 and recipe.given_frames == (0, 0.5, 0.5)
    (tmp_path / "bad.json").write_text(json.dumps({"model": "tiny-wfm", "steps": 1, "widht": 64}))
    with pytest.raises(ValueError, match="unknown wfm recipe field.*widht"):
        resolve(WorldModel, tmp_path / "bad.json")
    with pytest.raises(ValueError, match="unknown recipe 'nope'; recipes: wfm-cv4x8x8"):
        resolve(WorldModel, "nope")
    with pytest.raises(TypeError, match="a wfm recipe is a Recipe"):
        register_recipe(WorldModel, "x", object())
    assert resolve(WorldModel, Recipe("tiny-wfm", steps=1))[1].steps == 1
    assert "tiny-wfm" in WorldModel.recipes and np.isclose(resolve(WorldModel, "tiny-wfm")[1].lr, 3e-4)


def test_fsdp_and_accumulation_are_checked(clips, tmp_path):
    with pytest.raises(ValueError, match="--fsdp shards a run over processes"):
        train(WorldModel, "tiny-wfm", clips, tmp_path, Launch(steps=1, fsdp=True))
    with pytest.raises(ValueError, match="a batch of 4 does not split into 1 process.*3 micro-batch"):
        train(WorldModel, "tiny-wfm", clips, tmp_path, Launch(steps=1, accumulate=3))
