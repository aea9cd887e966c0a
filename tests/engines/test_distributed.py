"""Data-parallel training on torch.distributed: real process groups of 2 CPU processes
(gloo), started as a user does (``worldgraph train ... --nproc 2``, which runs torchrun's
launcher); runs resumed across a change of world size take the steps of an unbroken one."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from worldgraph.cli import main
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig

pytestmark = pytest.mark.slow

RECIPE = {"model": "tiny-wfm", "steps": 4, "batch": 4, "warmup": 1, "checkpoint_seconds": 0}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A dataset, the recipe as a file (the processes read it), and an unbroken run of one process."""
    root = tmp_path_factory.mktemp("distributed")
    data = root / "data"
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=21, count=2), ClipSettings(frames=17)),
                  data, workers=1)
    recipe = root / "tiny.json"
    recipe.write_text(json.dumps(RECIPE))
    reference = root / "one"
    assert train(recipe, data, reference) == 0
    return data, recipe, reference


def train(recipe, data, run, *more):
    return main(["train", "wfm", "--recipe", str(recipe), "--data", str(data), "--run", str(run), "--threads", "1",
                 "--no-export", *more])


def started(reference, run):
    """A run folder holding the reference's latent cache (encoded once)."""
    run.mkdir()
    shutil.copy(reference / "latents.safetensors", run / "latents.safetensors")
    return run


def assert_same_run(run, reference):
    a, b = (load_file(str(r / "last.safetensors")) for r in (run, reference))
    assert a.keys() == b.keys()
    for key in a:
        if not key.startswith("rng."):
            assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6, rtol=1e-5), key
    got, want = (json.loads((r / "last.json").read_text())["losses"] for r in (run, reference))
    assert got == pytest.approx(want, abs=1e-4)


def test_two_processes_take_the_steps_of_one_and_a_run_resumes_on_one(setup, tmp_path):
    data, recipe, reference = setup
    run = started(reference, tmp_path / "run")
    assert train(recipe, data, run, "--nproc", "2", "--steps", "2") == 0  # stopped at step 2
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 2 and state["world_size"] == 2
    steps = [r["step"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    assert steps == [1, 2]  # rank 0 alone logs
    assert train(recipe, data, run) == 0  # and goes on in one process
    assert json.loads((run / "last.json").read_text())["world_size"] == 1
    assert_same_run(run, reference)


def test_a_run_of_one_process_resumes_on_two(setup, tmp_path):
    data, recipe, reference = setup
    run = started(reference, tmp_path / "run")
    assert train(recipe, data, run, "--steps", "2") == 0
    assert train(recipe, data, run, "--nproc", "2") == 0
    assert_same_run(run, reference)


def test_fsdp_shards_the_run_over_two_processes_and_saves_it_whole(setup, tmp_path):
    data, recipe, reference = setup
    run = started(reference, tmp_path / "run")
    assert train(recipe, data, run, "--nproc", "2", "--fsdp", "--accumulate", "2") == 0
    assert_same_run(run, reference)
