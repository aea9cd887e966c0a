import threading

import pytest

from worldgraph.nodes import CancelToken, Executor, Graph, GraphInvalid, node_seed
from worldgraph.nodes import events as ev

from .. import nodepack


@pytest.fixture(autouse=True)
def _reset_calls():
    nodepack.CALLS.clear()


def chain(registry) -> Graph:
    """a -> b -> c, plus d beside them."""
    g = Graph("/G", registry=registry)
    g.add_node("a", "test.math.Const", values={"value": 1.0})
    g.add_node("b", "test.math.Add", values={"b": 2.0})
    g.add_node("c", "test.math.Add", values={"b": 3.0})
    g.add_node("d", "test.math.Const", values={"value": 7.0})
    g.connect("a", "out", "b", "a")
    g.connect("b", "sum", "c", "a")
    return g


def run(g, tmp_path, executor=None, **kw):
    events: list[ev.Event] = []
    executor = executor or Executor()
    executor.handlers = [events.append]
    return executor.run(g, tmp_path, **kw), events


def test_runs_in_order_and_reports_events(registry, tmp_path):
    result, events = run(chain(registry), tmp_path)
    assert result.status == "ok"
    assert result.outputs["/G/c"]["sum"] == 6.0
    assert nodepack.CALLS == ["/G/a", "/G/b", "/G/c", "/G/d"]  # file order where it can
    kinds = [e.kind for e in events]
    assert kinds[0] == "graph_started" and kinds[-1] == "graph_finished"
    assert kinds.count("node_started") == kinds.count("node_finished") == 4
    finished = next(e for e in events if isinstance(e, ev.NodeFinished) and e.path == "/G/c")
    assert finished.outputs == {"sum": "6.0"}


def test_rerun_uses_the_cache_and_a_change_reruns_only_downstream(registry, tmp_path):
    g, executor = chain(registry), Executor()
    run(g, tmp_path, executor)
    nodepack.CALLS.clear()
    result, events = run(g, tmp_path, executor)
    assert nodepack.CALLS == [] and len(result.cached) == 4
    assert result.outputs["/G/c"]["sum"] == 6.0
    g.set_value("b", "b", 10.0)
    result, _ = run(g, tmp_path, executor)
    assert nodepack.CALLS == ["/G/b", "/G/c"]
    assert result.outputs["/G/c"]["sum"] == 14.0
    nodepack.CALLS.clear()
    g.set_value("c", "b", 0.0)  # the last node: only it runs
    run(g, tmp_path, executor)
    assert nodepack.CALLS == ["/G/c"]


def test_non_deterministic_nodes_and_their_descendants_always_run(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("clock", "test.random.Clock")
    g.add_node("after", "test.math.Add")
    g.connect("clock", "out", "after", "a")
    executor = Executor()
    run(g, tmp_path, executor)
    nodepack.CALLS.clear()
    run(g, tmp_path, executor)
    assert nodepack.CALLS == ["/G/clock", "/G/after"]


def test_seeds_are_derived_per_node_and_reproducible(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("n1", "test.random.Noise")
    g.add_node("n2", "test.random.Noise")
    r1, _ = run(g, tmp_path, seed=3)
    r2, _ = run(g, tmp_path, seed=3)
    r3, _ = run(g, tmp_path, seed=4)
    assert r1.outputs == r2.outputs
    assert r1.outputs["/G/n1"] != r1.outputs["/G/n2"]
    assert r1.outputs["/G/n1"] != r3.outputs["/G/n1"]
    assert node_seed(3, "/G/n1") == node_seed(3, "/G/n1") != node_seed(3, "/G/n2")


def test_seed_change_reruns_only_seeded_nodes(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("c", "test.math.Const")
    g.add_node("n", "test.random.Noise")
    executor = Executor()
    run(g, tmp_path, executor, seed=1)
    nodepack.CALLS.clear()
    run(g, tmp_path, executor, seed=2)
    assert nodepack.CALLS == ["/G/n"]


def test_a_failure_skips_what_needs_it_and_reports_inputs(registry, tmp_path):
    g = chain(registry)
    g.add_node("bad", "test.math.Fail", values={"x": 4.0})
    g.add_node("after", "test.math.Add")
    g.connect("bad", "out", "after", "a")
    g.add_node("after2", "test.math.Add")
    g.connect("after", "sum", "after2", "a")
    result, events = run(g, tmp_path)
    assert result.status == "failed"
    [failure] = result.failures
    assert failure.path == "/G/bad" and failure.type == "test.math.Fail"
    assert failure.message == "cannot handle x=4.0" and failure.inputs == {"x": "4.0"}
    assert "Traceback" in failure.traceback
    skipped = {e.path: e.because for e in events if isinstance(e, ev.NodeSkipped)}
    assert skipped == {"/G/after": "/G/bad failed", "/G/after2": "/G/bad failed"}
    assert result.outputs["/G/c"]["sum"] == 6.0  # independent branches still ran


def test_an_unexpected_exception_is_a_node_failure(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("x", "test.math.Crash")
    result, _ = run(g, tmp_path)
    assert result.failures[0].message == "ZeroDivisionError: float division by zero"


def test_blocked_branch_is_a_result(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("guard", "test.guard.Gate", values={"reason": "unsafe prompt"})
    g.add_node("gen", "test.math.Add")
    g.add_node("other", "test.math.Const")
    g.connect("guard", "out", "gen", "a")
    result, events = run(g, tmp_path)
    assert result.status == "blocked" and not result.failures
    assert result.blocked["/G/gen"] == "blocked by /G/guard: unsafe prompt"
    assert "/G/gen" not in nodepack.CALLS and "/G/other" in nodepack.CALLS


def test_invalid_graph_does_not_run(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("n", "test.math.Needs")
    with pytest.raises(GraphInvalid, match=r"/G/n.inputs:x: required float input is not set"):
        Executor().run(g, tmp_path)
    assert nodepack.CALLS == []


def test_cancel_between_nodes_and_inside_loops(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("slow", "test.loop.Slow", values={"steps": 1000})
    g.add_node("after", "test.math.Add")
    g.connect("slow", "out", "after", "a")
    cancel = CancelToken()

    def cancel_midway(event):
        if isinstance(event, ev.NodeProgress) and event.value == 10:
            cancel.cancel()

    executor = Executor(handlers=[cancel_midway])
    result = executor.run(g, tmp_path, cancel=cancel)
    assert result.status == "cancelled" and "/G/after" not in nodepack.CALLS

    cancel = CancelToken()
    cancel.cancel()
    result = Executor().run(g, tmp_path, cancel=cancel)
    assert result.status == "cancelled" and not result.ran


def test_cancel_from_another_thread(registry, tmp_path):
    g = Graph("/G", registry=registry)
    g.add_node("slow", "test.loop.Slow", values={"steps": 10**7})
    cancel = CancelToken()
    timer = threading.Timer(0.2, cancel.cancel)
    timer.start()
    result = Executor().run(g, tmp_path, cancel=cancel)
    timer.join()
    assert result.status == "cancelled"


def test_cache_respects_its_memory_budget():
    import numpy as np

    from worldgraph.nodes import OutputCache

    cache = OutputCache(budget_bytes=1000)
    cache.put("a", {"x": np.zeros(600, np.uint8)})
    cache.put("b", {"x": np.zeros(600, np.uint8)})  # evicts a
    assert cache.get("a") is None and cache.get("b") is not None
    cache.put("huge", {"x": np.zeros(5000, np.uint8)})  # larger than the budget: not kept
    assert cache.get("huge") is None and len(cache) == 1
