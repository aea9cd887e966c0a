"""Run inside Kit by tests/kit (``--exec "kit_probe.py REPORT.json"``): what the started
worldgraph extension looks like from inside, then disable and enable it again, then quit."""

import json
import os
import sys

import omni.kit.app

report: dict = {}
try:
    import worldgraph.kit_extension as entry
    from worldgraph.kit_extension import get_extension

    ext = get_extension()
    report["heavy_after_startup"] = sorted({"torch", "cv2", "av", "mujoco"} & set(sys.modules))
    report["node_types"] = len(ext.node_types)
    report["default_backend"] = ext.runner.default_backend
    report["output_dir"] = str(ext.runner.output_dir)
    report["engine_cache"] = os.environ.get("WORLDGRAPH_ENGINE_CACHE")
    report["worldgraph_file"] = sys.modules["worldgraph"].__file__

    del ext  # Kit checks that nothing holds the extension object once it is disabled
    manager = omni.kit.app.get_app().get_extension_manager()
    manager.set_extension_enabled_immediate("worldgraph", False)
    report["enabled_after_disable"] = manager.is_extension_enabled("worldgraph")
    report["instance_after_disable"] = entry._instance is not None  # the module as it was when enabled
    manager.set_extension_enabled_immediate("worldgraph", True)
    from worldgraph.kit_extension import get_extension as again

    report["node_types_after_enable"] = len(again().node_types)
except Exception as e:  # reported, asserted on by the test
    report["error"] = f"{type(e).__name__}: {e}"
with open(sys.argv[1], "w") as f:
    json.dump(report, f)
omni.kit.app.get_app().post_quit(0)
