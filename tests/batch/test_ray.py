"""The Ray backend on a real local cluster (loopback): the same bytes as the local pool, and
an item whose worker process is killed mid-item is sent again and completes."""

import os

import pytest

ray = pytest.importorskip("ray")

from worldgraph.batch.items import make_plan  # noqa: E402
from worldgraph.batch.ray_backend import RayBackend  # noqa: E402
from worldgraph.batch.spec import load_spec  # noqa: E402
from worldgraph.batch.store import CLIPS, MANIFEST, Store  # noqa: E402
from worldgraph.cli import main  # noqa: E402
from worldgraph.engines.sim.dataset import verify  # noqa: E402
from worldgraph.nodes import load_graph  # noqa: E402

from .conftest import item_folders, kill_worker_mid_item, leftovers, manifest_lines, tiny_sim_spec  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    os.environ.setdefault("MUJOCO_GL", "egl")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, address="local",
             _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def test_ray_and_the_local_pool_make_the_same_bytes(cluster, tmp_path, capsys):
    spec = tiny_sim_spec(tmp_path, items=4)
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert main(["batch", str(spec), "--out", str(local), "--workers", "2"]) == 0
    assert main(["batch", str(spec), "--out", str(remote), "--ray", "auto", "--json"]) == 0
    assert '"backend": "ray", "workers": 2' in capsys.readouterr().out  # the cluster's 2 CPUs, 1 per item
    assert (local / MANIFEST).read_bytes() == (remote / MANIFEST).read_bytes()
    assert item_folders(local) == item_folders(remote)
    for record in manifest_lines(local):
        for name in record["files"]:
            assert (local / CLIPS / record["id"] / name).read_bytes() == (remote / CLIPS / record["id"] / name).read_bytes()
    assert verify(remote) == [] and leftovers(remote) == []


def test_a_worker_killed_mid_item_is_retried_and_completes(cluster, tmp_path):
    spec = load_spec(tiny_sim_spec(tmp_path, items=3, retries=0))
    plan, items = make_plan(spec, load_graph(spec.graph))
    out = tmp_path / "out"
    store = Store(out)
    finished = store.open(False, {})
    backend = RayBackend(plan, store.clips, 1, 1, 1.0, 0.0, "auto")
    pid = backend.worker_pids()[0]
    result = kill_worker_mid_item(spec, plan, items, store, finished, backend, lambda: pid)
    summary = result["summary"]
    assert result["code"] == 0, summary
    assert summary["workers_lost"] == 1 and summary["ok"] == 3 and summary["failed"] == 0
    assert [r["id"] for r in manifest_lines(out)] == [i.id for i in items]  # each once, retries included
    assert verify(out) == [] and leftovers(out) == []
    log = (out / "logs" / f"{items[1].id}.log").read_text()
    assert "the Ray worker died while making the item" in log
