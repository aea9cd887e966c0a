"""What the Kit extension does, without Kit: check dependencies, load node types, run a
graph file headless, release models. Imports only the standard library at module level, so
Kit can load it (and report what is missing) in a Python that lacks worldgraph's
dependencies; nothing torch-heavy is imported until a node that needs it runs."""

from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

# import name -> what to pip install for it
REQUIRED = {"numpy": "numpy", "pxr": "usd-core"}  # node types, graph files
SIMULATION = {"mujoco": "mujoco[usd]", "av": "av", "cv2": "opencv-python-headless<5"}  # scene, video nodes
MODELS = {"torch": "torch", "safetensors": "safetensors", "onnxruntime": "onnxruntime",
          "transformers": "transformers"}  # tokenizer, world model, guard nodes
SUBPACKAGES = ("nodes", "engines", "ui")  # worldgraph.<name> lives in <checkout>/<name>/
BACKENDS = ("auto", "torch", "onnxruntime", "tensorrt")


class KitDependencyError(ImportError):
    """worldgraph cannot start: Python packages are missing from the Python Kit runs on."""


def missing(modules: Mapping[str, str]) -> list[str]:
    """The pip names of ``modules`` (import name -> pip name) that cannot be imported."""
    return [pip for name, pip in modules.items() if _spec(name) is None]


def install_hint(packages: Sequence[str]) -> str:
    quoted = " ".join(f"'{p}'" if any(c in p for c in "<>[]") else p for p in packages)
    return f"{sys.executable} -m pip install {quoted}"


def check_dependencies() -> None:
    """Raise :class:`KitDependencyError` naming every missing package and the command that
    installs them (worldgraph's own subpackages included)."""
    use_source_checkout()
    lacking = missing(REQUIRED)
    if _spec("worldgraph.nodes") is None or _spec("worldgraph.engines") is None:
        lacking.insert(0, "worldgraph")  # neither installed nor a source checkout beside us
    if lacking:
        raise KitDependencyError(
            f"worldgraph needs Python packages that are not installed: {', '.join(lacking)}. "
            f"Install them into the Python Kit runs on: {install_hint(lacking)}"
        )


def optional_report() -> str:
    """One line: which node families can run here (found, not imported)."""
    sim, models = missing(SIMULATION), missing(MODELS)
    parts = ["scene/video nodes: " + (f"need {', '.join(sim)}" if sim else "ready"),
             "model nodes: " + (f"need {', '.join(models)}" if models else "ready")]
    return "; ".join(parts)


# --------------------------------------------------------------------------- source checkout


class _CheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds ``worldgraph.nodes`` / ``.engines`` / ``.ui`` in a source checkout, the way
    pyproject's package-dir maps them, when worldgraph is not pip-installed: Kit loads the
    package from ``extension/worldgraph`` alone (``--ext-folder <checkout>/extension``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.partition(".")
        if package != "worldgraph" or name not in SUBPACKAGES:
            return None
        folder = self.root / name
        if not (folder / "__init__.py").is_file():
            return None
        return importlib.util.spec_from_file_location(
            fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )


def use_source_checkout() -> bool:
    """Make a source checkout's subpackages importable if nothing else provides them;
    whether the finder is in use."""
    if any(isinstance(f, _CheckoutFinder) for f in sys.meta_path):
        return True
    if _spec("worldgraph.nodes") is not None:
        return False
    root = Path(__file__).resolve().parents[2]  # <checkout>/extension/worldgraph/kit.py
    if not (root / "nodes" / "registry.py").is_file():
        return False
    sys.meta_path.append(_CheckoutFinder(root))
    return True


def stop_using_source_checkout() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _CheckoutFinder)]


def _spec(name: str) -> importlib.machinery.ModuleSpec | None:
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return None


# --------------------------------------------------------------------------- running graphs


@dataclass
class RunSummary:
    """What a run made: plain data (JSON-ready), no arrays."""

    graph: str  # the file
    prim: str  # the OmniGraph prim
    status: str  # ok | blocked | failed | cancelled
    out_dir: str
    files: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class GraphRunner:
    """Loads node types once and runs graphs with one executor, so its cache carries
    across runs in the same Kit session. Settings as the extension's ``[settings]``."""

    def __init__(self, output_dir: str | Path = "out", default_backend: str = "auto",
                 log: Callable[[str], None] | None = None) -> None:
        if default_backend not in BACKENDS:
            raise ValueError(f"default_backend {default_backend!r}: expected one of {', '.join(BACKENDS)}")
        self.output_dir = Path(output_dir)
        self.default_backend = default_backend
        self.log = log or (lambda message: None)
        self._executor: Any = None
        self._cancel: Any = None

    def node_types(self) -> list[str]:
        """Every registered node type id (built-ins and installed node packs)."""
        from worldgraph.nodes import default_registry

        registry = default_registry()
        for error in registry.load_errors:
            self.log(f"worldgraph: {error}")
        return [t.id for t in registry]

    def run_graph(
        self,
        path: str | Path,
        out_dir: str | Path | None = None,
        *,
        sets: Mapping[str, Any] | None = None,
        seed: int | None = None,
        backend: str | None = None,
    ) -> RunSummary:
        """Validate and run the graph in ``path`` into ``out_dir`` (default:
        ``<output_dir>/<file name>``). ``sets`` maps ``node.input`` (a node name or prim
        path) to a value. Raises ``GraphFileError`` / ``GraphInvalid`` for a file that
        cannot run; a node failing is a result (``status == "failed"``)."""
        from worldgraph.nodes import GraphFileError, load_graph

        file = Path(path).expanduser()
        if not file.is_file():
            raise GraphFileError(f"graph file not found: {file.resolve()}"
                                 + (" (it is a folder)" if file.is_dir() else ""))
        graph = load_graph(file)
        return self._run(graph, str(file.resolve()), Path(out_dir) if out_dir else self.output_dir / file.stem,
                         sets, seed, backend)

    def run_stage_graph(self, stage: Any, out_dir: str | Path | None = None, **kwargs: Any) -> RunSummary:
        """Run the graph on an open ``Usd.Stage`` (Kit's, through omni.usd), unsaved edits
        included; relative assets resolve from the stage's root layer folder."""
        from worldgraph.nodes.usd_graph import _read_graph

        layer = stage.GetRootLayer()
        where = Path(layer.realPath) if layer.realPath else Path.cwd() / "untitled.usda"
        graph = _read_graph(stage, where, None)
        return self._run(graph, layer.identifier, Path(out_dir) if out_dir else self.output_dir / where.stem,
                         kwargs.get("sets"), kwargs.get("seed"), kwargs.get("backend"))

    def _run(self, graph: Any, source: str, out_dir: Path, sets: Mapping[str, Any] | None,
             seed: int | None, backend: str | None) -> RunSummary:
        from worldgraph.nodes import CancelToken, Executor, GraphEditError, GraphInvalid, validate
        from worldgraph.nodes.library.backend import use_backend

        for target, value in (sets or {}).items():
            node, dot, name = target.rpartition(".")
            if not dot or not node or not name:
                raise GraphEditError(f"sets {target!r}: expected NODE.INPUT")
            graph.set_value(graph.node(node).path, name, value)
        chosen = backend or self.default_backend
        if chosen not in BACKENDS:
            raise ValueError(f"backend {chosen!r}: expected one of {', '.join(BACKENDS)}")
        if chosen != "auto":
            use_backend(graph, chosen)
        problems = validate(graph)
        if problems:
            raise GraphInvalid(source, problems)

        if self._executor is None:
            self._executor = Executor(handlers=[self._log_event])
        self._cancel = CancelToken()
        self.log(f"worldgraph: running {source} into {out_dir}")
        try:
            result = self._executor.run(graph, out_dir, seed=seed, cancel=self._cancel)
        finally:
            self._cancel = None
        summary = RunSummary(
            graph=source, prim=graph.path, status=result.status, out_dir=str(out_dir.resolve()),
            files=[str(f) for f in result.files], ran=list(result.ran), cached=list(result.cached),
            failures=[str(f) for f in result.failures], blocked=dict(result.blocked),
            seconds=round(result.seconds, 3),
        )
        self.log(f"worldgraph: {source}: {summary.status}, {len(summary.ran)} ran, {len(summary.cached)} cached "
                 f"in {summary.seconds:.2f} s")
        return summary

    def _log_event(self, event: Any) -> None:
        kind = getattr(event, "kind", "")
        if kind in ("node_finished", "node_cached", "node_failed", "node_blocked", "node_skipped"):
            details = getattr(event, "message", None) or getattr(event, "reason", None) or ""
            self.log(f"worldgraph: {kind} {getattr(event, 'path', '')} {details}".rstrip())

    def cancel(self) -> None:
        """Stop a run in progress (between nodes and inside long loops)."""
        if self._cancel is not None:
            self._cancel.cancel()

    def release(self) -> int:
        """Drop the executor's cache and every loaded model; how many caches were cleared.
        Only modules already imported are touched: releasing never imports torch."""
        self.cancel()
        self._executor = None
        cleared = release_models()
        gc.collect()
        return cleared


def release_models() -> int:
    """Clear the per-process caches (``functools.cache``) that hold loaded models, engines
    and the node registry, in every worldgraph module imported so far."""
    cleared = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(("worldgraph.engines", "worldgraph.nodes")) or not isinstance(module, ModuleType):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name:
                value.cache_clear()
                cleared += 1
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    return cleared
