"""The ``omni.ext.IExt`` entry Kit starts when the ``worldgraph`` extension is enabled.

Needs only the Kit kernel (``omni.ext``, ``omni.kit.app``, ``carb``); registry extensions
(omni.usd, omni.kit.commands, omni.kit.menu.utils) are used when they are enabled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import carb
import carb.settings
import omni.ext

from .kit import (
    GraphRunner,
    KitDependencyError,
    RunSummary,
    check_dependencies,
    optional_report,
    stop_using_source_checkout,
)

SETTINGS = "/exts/worldgraph"
MENU = "Window"
COMMAND = "WorldgraphRunGraph"

_instance: WorldgraphExtension | None = None


def get_extension() -> WorldgraphExtension:
    """The started extension (its ``run_graph`` is the API); a clear error when it is not
    running or could not start."""
    if _instance is None:
        raise RuntimeError("the worldgraph extension is not enabled (kit --enable worldgraph)")
    if _instance.runner is None:
        raise RuntimeError(f"the worldgraph extension did not start: {_instance.startup_error}")
    return _instance


class WorldgraphExtension(omni.ext.IExt):
    def on_startup(self, ext_id: str) -> None:
        global _instance
        _instance = self
        self.ext_id = ext_id
        self.runner: GraphRunner | None = None
        self.startup_error = ""
        self.node_types: list[str] = []
        self._command: Any = None
        self._menu: Any = None
        try:
            check_dependencies()
        except KitDependencyError as e:  # one clear error; Kit keeps running
            self.startup_error = str(e)
            carb.log_error(str(e))
            return

        settings = carb.settings.get_settings()
        cache_dir = settings.get_as_string(f"{SETTINGS}/model_cache_dir")
        if cache_dir:
            os.environ["WORLDGRAPH_ENGINE_CACHE"] = _resolve_tokens(cache_dir)
        try:
            self.runner = GraphRunner(
                output_dir=_resolve_tokens(settings.get_as_string(f"{SETTINGS}/output_dir") or "out"),
                default_backend=settings.get_as_string(f"{SETTINGS}/default_backend") or "auto",
                log=carb.log_info,
            )
            self.node_types = self.runner.node_types()
        except Exception as e:  # a bad setting or a broken install: say which, keep Kit up
            self.runner = None
            self.startup_error = f"worldgraph could not start: {type(e).__name__}: {e}"
            carb.log_error(self.startup_error)
            return
        self._command = _register_command()
        self._menu = _add_menu(self._open_editor)
        carb.log_info(f"worldgraph: started {ext_id}: {len(self.node_types)} node types registered "
                      f"({optional_report()}); output folder {self.runner.output_dir}")

    def on_shutdown(self) -> None:
        global _instance
        cleared = 0
        if self.runner is not None:
            cleared = self.runner.release()
            self.runner = None
        if self._menu is not None:
            _remove_menu(self._menu)
            self._menu = None
        if self._command is not None:
            _unregister_command(self._command)
            self._command = None
        self.node_types = []
        stop_using_source_checkout()
        _instance = None
        carb.log_info(f"worldgraph: shut down: node types unregistered, {cleared} cache(s) released "
                      "(models, engines, node registry)")

    # ----------------------------------------------------------------------- the API

    def run_graph(self, path: str | Path, out_dir: str | Path | None = None, **kwargs: Any) -> RunSummary:
        """Run a graph file headless: see :meth:`worldgraph.kit.GraphRunner.run_graph`."""
        return self._running().run_graph(path, out_dir, **kwargs)

    def run_stage_graph(self, out_dir: str | Path | None = None, **kwargs: Any) -> RunSummary:
        """Run the graph on the stage open in Kit (needs omni.usd)."""
        try:
            import omni.usd
        except ImportError:
            raise RuntimeError("run_stage_graph needs the omni.usd extension (kit --enable omni.usd)") from None
        stage = omni.usd.get_context().get_stage()
        if stage is None:
            raise RuntimeError("no stage is open in Kit")
        return self._running().run_stage_graph(stage, out_dir, **kwargs)

    def _running(self) -> GraphRunner:
        if self.runner is None:
            raise RuntimeError(f"the worldgraph extension did not start: {self.startup_error}")
        return self.runner

    def _open_editor(self, *_: Any) -> None:
        """The node-graph editor (PySide6) in its own process, on the open stage's file."""
        target: list[str] = []
        try:
            import omni.usd

            layer = omni.usd.get_context().get_stage().GetRootLayer()
            target = [layer.realPath] if layer.realPath else []
        except Exception:  # no omni.usd or no stage: an empty editor
            pass
        subprocess.Popen([sys.executable, "-m", "worldgraph", "edit", *target])


def _resolve_tokens(value: str) -> str:
    """Kit path tokens (``${data}``, ``${cache}`` ...) in a setting, resolved."""
    try:
        import carb.tokens

        return str(carb.tokens.get_tokens_interface().resolve(value))
    except Exception:  # no token interface: the value as written
        return value


def _register_command() -> Any:
    try:
        import omni.kit.commands
    except ImportError:
        return None

    class WorldgraphRunGraphCommand(omni.kit.commands.Command):
        """Run a worldgraph graph file headless (``omni.kit.commands.execute("WorldgraphRunGraph",
        path=...)``); returns the run's summary as a dict."""

        def __init__(self, path: str, out_dir: str | None = None, **kwargs: Any) -> None:
            self.path, self.out_dir, self.kwargs = path, out_dir, kwargs

        def do(self) -> dict[str, Any]:
            return get_extension().run_graph(self.path, self.out_dir, **self.kwargs).to_json()

        def undo(self) -> None:  # files written stay: a run is not undoable
            pass

    omni.kit.commands.register(WorldgraphRunGraphCommand)
    return WorldgraphRunGraphCommand


def _unregister_command(command: Any) -> None:
    try:
        import omni.kit.commands

        omni.kit.commands.unregister(command)
    except Exception as e:
        carb.log_warn(f"worldgraph: could not unregister {COMMAND}: {e}")


def _add_menu(on_click: Any) -> Any:
    try:
        from omni.kit.menu.utils import MenuItemDescription, add_menu_items
    except ImportError:
        return None
    items = [MenuItemDescription(name="worldgraph Editor", onclick_fn=on_click)]
    add_menu_items(items, MENU)
    return items


def _remove_menu(items: Any) -> None:
    try:
        from omni.kit.menu.utils import remove_menu_items

        remove_menu_items(items, MENU)
    except Exception as e:
        carb.log_warn(f"worldgraph: could not remove the menu entry: {e}")
