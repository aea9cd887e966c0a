"""The ``worldgraph`` command line.

Exit codes: 0 success (a guardrail blocking a branch is a result, so also 0),
1 a node failed at run time (or ``verify`` found damage), 2 an invalid graph, file or
usage, 130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worldgraph import __version__, curate_cli, edit_cli, engines_cli, models_cli, train_cli
from worldgraph.batch import cli as batch_cli

from .cli_common import EXIT_CANCELLED, EXIT_FAILED, EXIT_INVALID, EXIT_OK, stage_progress

EPILOG = """exit codes:
  0    success (a branch blocked by a guardrail is a result, not a failure)
  1    a node failed at run time (verify: a clip, file or manifest line is missing, differs or is malformed)
  2    invalid graph, unreadable file or bad usage
  130  cancelled (Ctrl-C)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="worldgraph",
        description="Run, check and list world-model node graphs stored as USD files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"worldgraph {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a graph", epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("graph", type=Path, help="a .usda graph file")
    run.add_argument("--out", type=Path, help="output folder (default: out/<graph file name>)")
    run.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="NODE.INPUT=VALUE",
        help="set an input before running, e.g. --set /Edges/canny.preset=high (repeatable)",
    )
    run.add_argument("--seed", type=int, help="graph seed (default: the file's, else 0)")
    run.add_argument("--backend", choices=("auto", "torch", "onnxruntime", "tensorrt"),
                     help="run every model node on this backend (overrides the file)")
    run.add_argument("--json", action="store_true", help="JSON-lines events on stdout")

    transfer = commands.add_parser(
        "transfer", help="run a Cosmos-Transfer1 controlnet_specs JSON (prompt, input video, per-modality controls)")
    transfer.add_argument("spec", type=Path, help="a spec .json; its paths are relative to its folder")
    transfer.add_argument("--out", type=Path, help="output folder (default: out/<spec file name>)")
    transfer.add_argument("--seed", type=int, help="graph seed (the spec's seed sets the sampler's)")
    transfer.add_argument("--backend", choices=("auto", "torch", "onnxruntime", "tensorrt"),
                          help="run every model node on this backend")
    transfer.add_argument("--json", action="store_true", help="JSON-lines events on stdout")

    validate = commands.add_parser("validate", help="check graphs without running them",
                                   epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    validate.add_argument("graphs", type=Path, nargs="+", metavar="GRAPH")
    validate.add_argument("--json", action="store_true", help="a JSON report on stdout")

    check = commands.add_parser("verify", help="check a dataset, batch output or curated folder against its manifest")
    check.add_argument("dataset", type=Path, help="a folder with a manifest.jsonl: a dataset (WriteDataset), "
                                                  "a `worldgraph batch` output or a `worldgraph curate` output")
    check.add_argument("--json", action="store_true", help="a JSON report on stdout")

    train = commands.add_parser("train", help="train a model (resumes where it stopped)",
                                epilog="{recipes}\n{models}", formatter_class=models_cli.GeneratedHelp)
    train.add_argument("what", choices=["tokenizer", "wfm", "controlnet", "ar", "estimator", "guard", "action",
                                        "camera", "colours"])
    train.add_argument("--recipe", help="the recipe to train (each family's are listed below), or a .json file "
                                        'of recipe fields over one: {"from": "wfm-cv4x8x8-gpu", "batch": 1024}')
    train.add_argument("--modality", choices=["vis", "edge", "depth", "seg", "all"],
                       help="controlnet: the branch to train, or all: fine-tune the four shipped ones together")
    train.add_argument("--data", type=Path,
                       help="tokenizer: a dataset folder; guard: a prompts .jsonl (default: the shipped set)")
    train.add_argument("--run", "--run-dir", dest="run", type=Path,
                       help="the run's folder: checkpoint, metrics.jsonl, metrics.png (default: runs/<recipe>; "
                            "under torchrun spell it --run-dir: torchrun reads --run as its --run-path)")
    train.add_argument("--clips", type=int, default=300, help="colours: clips to learn from (default: 300)")
    train.add_argument("--steps", type=int, help="train to this many steps (default: the recipe's)")
    train.add_argument("--minutes", type=float, help="stop after this long (resume later)")
    train.add_argument("--threads", type=int, default=0, help="torch threads (per process; default: all)")
    train.add_argument("--device", default="cpu",
                       help="tokenizer, wfm, controlnet, ar, action, camera: cpu or cuda[:N] (default: cpu)")
    train.add_argument("--no-export", action="store_true",
                       help="do not write the shipped checkpoint when training ends")
    train_cli.add_options(train)

    evaluate = commands.add_parser("eval", help="measure a model on held-out clips (guard: held-out prompts)",
                                   epilog="{models}", formatter_class=models_cli.GeneratedHelp)
    evaluate.add_argument("what", choices=["tokenizer", "wfm", "ar", "estimator", "action", "camera", "guard"])
    evaluate.add_argument("--model", help="a catalog name (listed below) or a checkpoint .json (wfm: default "
                                          "wfm-cv4x8x8; ar: default ar-dv4x8x8; guard: a prompt_guard .json, "
                                          "default shipped)")
    evaluate.add_argument("--data", type=Path, help="a held-out dataset folder (required; guard: a prompts "
                                                    ".jsonl, default the shipped set)")
    evaluate.add_argument("--split", choices=("heldout", "train", "all"), default="heldout",
                          help="guard: which prompts to measure on (default: heldout)")
    evaluate.add_argument("--threshold", type=float, default=0.5, help="guard: classifier threshold (0..1)")
    evaluate.add_argument("--clips", type=int, default=0, help="only the first clips (default: all)")
    evaluate.add_argument("--frames", type=int, default=17, help="frames per clip (1 + 4k)")
    evaluate.add_argument("--start", type=int, default=0,
                          help="tokenizer: the clips' frames from this one on (a window that starts mid-motion)")
    evaluate.add_argument("--json", action="store_true", help="the figures as JSON")
    evaluate.add_argument("--steps", type=int, default=35, help="wfm: sampler steps")
    evaluate.add_argument("--guidance", type=float, default=0.0, help="wfm: Video2World guidance")
    evaluate.add_argument("--t2w-guidance", type=float, default=3.0, help="wfm: Text2World guidance")
    evaluate.add_argument("--batch", type=int, default=8, help="wfm: clips sampled at once")
    evaluate.add_argument("--jitter", type=float, default=0.002,
                          help="wfm: metres the retake moves each body's start (physical variance)")
    evaluate.add_argument("--no-text2world", action="store_true", help="wfm: skip the prompt-adherence check")
    evaluate.add_argument("--temperature", type=float, default=1.0, help="ar: sampling temperature")
    evaluate.add_argument("--top-p", type=float, default=0.9, help="ar: nucleus sampling mass")
    evaluate.add_argument("--search", default="none", help="ar: none, best_of_n or beam")
    evaluate.add_argument("--candidates", type=int, default=1, help="ar: N, continuations or proposals per step")
    evaluate.add_argument("--beam-width", type=int, default=1, help="ar: beams kept per latent frame")
    evaluate.add_argument("--verifier", default="likelihood", help="ar: likelihood, diffusion or forecast")
    evaluate.add_argument("--seed", type=int, default=0, help="wfm, ar: sampling seed")
    evaluate.add_argument("--no-wfm", action="store_true", help="ar: leave the diffusion model out of the table")

    guard = commands.add_parser("guard", help="check prompts with the prompt guard (exit 0 whatever the verdicts)")
    guard.add_argument("prompts", nargs="*", metavar="PROMPT")
    guard.add_argument("--file", type=Path, help="more prompts, one a line")
    guard.add_argument("--threshold", type=float, default=0.5, help="classifier threshold (0..1)")
    guard.add_argument("--no-blocklist", action="store_true")
    guard.add_argument("--no-classifier", action="store_true")
    guard.add_argument("--block-list", type=Path, action="append", default=[], help="extra blocked words file")
    guard.add_argument("--allow-list", type=Path, action="append", default=[], help="extra allowed phrases file")
    guard.add_argument("--backend", choices=("auto", "torch", "onnxruntime", "tensorrt"), default="auto",
                       help="where the classifier runs (see worldgraph engines)")
    guard.add_argument("--json", action="store_true", help="JSON lines: prompt, verdict, stage, categories, reason")

    engines_cli.add_parser(commands)
    models_cli.add_parser(commands)
    batch_cli.add_parser(commands)
    edit_cli.add_parser(commands)
    curate_cli.add_parser(commands)

    nodes = commands.add_parser("nodes", help="list node types and their schemas")
    nodes.add_argument("ids", nargs="*", metavar="ID", help="only these node types")
    nodes.add_argument("--json", action="store_true", help="schemas as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from worldgraph.nodes import WorldgraphError

    try:
        return int(COMMANDS[args.command](args))
    except WorldgraphError as e:
        _error(str(e), args)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as e:  # a bug of ours: say so briefly, details with --debug
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(e).__name__}: {e} (rerun with --debug for details)",
              file=sys.stderr)
        return EXIT_FAILED


def _error(message: str, args: argparse.Namespace) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"event": "error", "message": message}))
    else:
        print(f"error: {message}", file=sys.stderr)
    if args.debug:
        traceback.print_exc()


# ------------------------------------------------------------------------------ run


def cmd_run(args: argparse.Namespace) -> int:
    from worldgraph.nodes import load_graph

    graph = load_graph(args.graph)
    for assignment in args.sets:
        _apply_set(graph, assignment)
    return execute(graph, args.graph, args.out or Path("out") / args.graph.stem, args)


def cmd_transfer(args: argparse.Namespace) -> int:
    from worldgraph.nodes.usd_graph import save_graph

    from .transfer_spec import spec_graph

    graph = spec_graph(args.spec)
    out_dir = args.out or Path("out") / args.spec.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    save_graph(graph, out_dir / "transfer.usda")  # the same run, to open in the editor or rerun
    return execute(graph, args.spec, out_dir, args)


def execute(graph: Any, source: Path, out_dir: Path, args: argparse.Namespace) -> int:
    """Validate and run ``graph`` (read from ``source``) into ``out_dir``, reporting as the
    command's flags ask; the exit code."""
    from worldgraph.nodes import CancelToken, Executor, GraphInvalid, validate
    from worldgraph.nodes.library.backend import use_backend

    from .views import JsonLines, PlainLines, RichProgress

    if args.backend:
        use_backend(graph, args.backend)
    problems = validate(graph)
    if problems:
        if args.json:
            print(json.dumps({"event": "invalid", "file": str(source),
                              "problems": [p.to_json() for p in problems]}))
        else:
            print(GraphInvalid(str(source), problems), file=sys.stderr)
        return EXIT_INVALID

    json_view = JsonLines() if args.json else None
    view = json_view or (RichProgress() if sys.stderr.isatty() else PlainLines())
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, _cancel_on_first_interrupt(cancel))
    try:
        result = Executor(handlers=[view]).run(graph, out_dir, seed=args.seed, cancel=cancel)
    finally:
        signal.signal(signal.SIGINT, previous)

    if json_view:
        json_view.write({
            "event": "result",
            "status": result.status,
            "files": [str(f) for f in result.files],
            "failures": [{"path": f.path, "type": f.type, "message": f.message, "inputs": f.inputs}
                         for f in result.failures],
            "blocked": result.blocked,
            "verdicts": result.verdicts,
        })
    else:
        _print_summary(result, out_dir, args.debug)
    return {"ok": EXIT_OK, "blocked": EXIT_OK, "cancelled": EXIT_CANCELLED}.get(
        result.status, EXIT_FAILED
    )


def _apply_set(graph: Any, assignment: str) -> None:
    """``/Graph/node.input=VALUE`` (or ``node.input=VALUE``), parsed by the input's type."""
    from worldgraph.nodes import GraphEditError

    target, sep, text = assignment.partition("=")
    node_path, dot, input_name = target.rpartition(".")
    if not sep or not dot or not node_path or not input_name:
        raise GraphEditError(f"--set {assignment!r}: expected NODE.INPUT=VALUE")
    node = graph.node(node_path)
    if node.type_id not in graph.registry:
        return  # the validator reports the unknown type with everything else
    spec = graph.registry.get(node.type_id).schema.input(input_name)
    if spec is None:
        raise GraphEditError(f"--set {assignment!r}: {node.type_id} has no input {input_name!r}")
    graph.set_value(node.path, input_name, _parse_value(text, spec.type.name, assignment))


def _parse_value(text: str, type_name: str, assignment: str) -> Any:
    from worldgraph.nodes import GraphEditError

    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
        if type_name == "bool":
            return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[
                text.lower()
            ]
    except (ValueError, KeyError):
        raise GraphEditError(f"--set {assignment!r}: {text!r} is not a {type_name}") from None
    return text


def _cancel_on_first_interrupt(cancel: Any) -> Any:
    def handler(signum: int, frame: Any) -> None:
        if cancel.cancelled:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        cancel.cancel()
        print("\ncancelling after the current step (Ctrl-C again to stop now)", file=sys.stderr)

    return handler


def _print_summary(result: Any, out_dir: Path, debug: bool) -> None:
    for failure in result.failures:
        print(f"error: {failure}", file=sys.stderr)
        if debug:
            print(failure.traceback, file=sys.stderr)
    for path, why in result.blocked.items():
        print(f"{path}: {why}")
    for output, verdict in result.verdicts.items():
        print(f"{output}: {verdict}")
    files = result.files
    if files:
        print(f"wrote {len(files)} file(s) in {out_dir}:")
        for f in files:
            shown = f.relative_to(Path.cwd()) if f.is_relative_to(Path.cwd()) else f
            print(f"  {shown}  {_size(f)}")
    print(f"{result.status}: {len(result.ran)} ran, {len(result.cached)} cached "
          f"in {result.seconds:.2f} s")


def _size(path: Path) -> str:
    size = float(sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# ------------------------------------------------------------------------------ validate


def cmd_validate(args: argparse.Namespace) -> int:
    from worldgraph.nodes import GraphInvalid, WorldgraphError, load_graph, validate

    reports = []
    for file in args.graphs:
        report: dict[str, Any] = {"file": str(file)}
        try:
            graph = load_graph(file)
            problems = validate(graph)
            report |= {"valid": not problems, "nodes": len(graph.nodes),
                       "problems": [p.to_json() for p in problems]}
            message = str(GraphInvalid(str(file), problems)) if problems else ""
        except WorldgraphError as e:
            report |= {"valid": False, "nodes": 0, "problems": [], "error": str(e)}
            message = f"error: {e}"
        reports.append(report)
        if not args.json:
            if report["valid"]:
                print(f"ok: {file} ({report['nodes']} nodes)")
            else:
                print(message, file=sys.stderr)
    if args.json:
        print(json.dumps(reports, indent=2, default=str))
    return EXIT_OK if all(r["valid"] for r in reports) else EXIT_INVALID


# ------------------------------------------------------------------------------ nodes


def cmd_nodes(args: argparse.Namespace) -> int:
    from worldgraph.nodes import REQUIRED, default_registry

    registry = default_registry()
    types = [registry.get(i) for i in args.ids] if args.ids else list(registry)
    for problem in registry.load_errors:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps([t.schema.to_json() for t in types], indent=2, default=str))
        return EXIT_OK
    for t in types:
        s = t.schema
        print(f"{s.id} (v{s.version}, {s.category}){'' if s.deterministic else ' [not cached]'}")
        print(f"    {s.doc.splitlines()[0] if s.doc else ''}")
        for i in s.inputs:
            extra = []
            if i.default is not REQUIRED:
                extra.append(f"default {i.default!r}")
            if i.choices:
                extra.append("one of " + "|".join(i.choices))
            if i.range:
                extra.append(f"range {i.range_text}")
            detail = f" ({', '.join(extra)})" if extra else ""
            print(f"    in  {i.name}: {i.type}{detail}{' required' if i.required else ''} - {i.doc}")
        for o in s.outputs:
            print(f"    out {o.name}: {o.type} - {o.doc}")
    return EXIT_OK


# ------------------------------------------------------------------------------ train / eval


def cmd_train(args: argparse.Namespace) -> int:
    if args.what == "guard":
        return train_guard(args)
    if args.what == "colours":
        return train_colours(args)
    return train_cli.cmd_train(args)


def train_guard(args: argparse.Namespace) -> int:
    """Train the prompt classifier's head, measure the whole guard with it on the held-out
    prompts, and write it (to ``--run`` when given, else over the shipped checkpoint)."""
    import tempfile

    from worldgraph.engines.guard import classifier
    from worldgraph.engines.guard.evaluate import evaluate
    from worldgraph.engines.guard.prompt import normalized

    data = args.data or classifier.DATA
    start = time.perf_counter()
    head, figures = classifier.train_head(normalized, data)
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as scratch:  # measured before it replaces anything
        card = classifier.export(head, figures, Path(scratch)).with_suffix(".json")
        both = evaluate(data, card)["stages"]["both"]
    guard = {"heldout_guard_recall": both["unsafe_recall"],
             "heldout_guard_false_positive_rate": both["benign_false_positive_rate"],
             "heldout_guard_obfuscated_recall": both["subsets"].get("obfuscated", {}).get("recall"),
             "heldout_guard_hard_benign_false_positive_rate":
                 both["subsets"].get("hard_benign", {}).get("false_positive_rate"),
             "train_seconds": round(seconds, 1)}
    print(f"prompt classifier trained in {seconds:.0f} s: alone, held-out recall {figures['heldout_recall']:.3f}, "
          f"false-positive rate {figures['heldout_false_positive_rate']:.3f} on {figures['heldout_prompts']} prompts; "
          f"the whole guard: recall {both['unsafe_recall']:.3f}, false-positive rate "
          f"{both['benign_false_positive_rate']:.3f}")
    if args.no_export:
        return EXIT_OK
    weights = classifier.export(head, figures | guard | {"data": str(data)},
                                args.run or classifier.CHECKPOINTS)
    print(f"wrote {weights} (and its .json); measure it with: worldgraph eval guard --model "
          f"{weights.with_suffix('.json')}")
    return EXIT_OK


def eval_guard(args: argparse.Namespace) -> int:
    """The prompt guard on the labeled prompts: recall and false-positive rate per stage and subset."""
    from worldgraph.engines.guard.classifier import DATA
    from worldgraph.engines.guard.evaluate import evaluate
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.nodes import WorldgraphError

    if not 0 <= args.threshold <= 1:
        raise WorldgraphError(f"--threshold {args.threshold} is not within 0..1")
    card = Path(args.model) if args.model else None
    try:
        with stage_progress() as progress:
            result = evaluate(args.data or DATA, card, args.split, args.threshold, progress=progress)
    except (CheckpointError, OSError, ValueError) as e:
        raise WorldgraphError(str(e)) from None
    if args.json:
        print(json.dumps(result))
        return EXIT_OK
    print(f"prompt guard on {result['prompts']} {args.split} prompts ({result['data']}), threshold "
          f"{result['threshold']:.2f}, checkpoint {str(result['checkpoint']['sha256'])[:12]}:")
    for stage, f in result["stages"].items():
        subsets = ", ".join(f"{name} {next(v for k, v in s.items() if k != 'prompts'):.3f} ({s['prompts']})"
                            for name, s in f["subsets"].items())
        print(f"  {stage:>10}: recall {f['unsafe_recall']:.3f}, false-positive rate "
              f"{f['benign_false_positive_rate']:.3f}  [{subsets}]")
    return EXIT_OK


def train_colours(args: argparse.Namespace) -> int:
    """The colour table of the prompt-adherence check, from a scene dataset's segmentation."""
    from rich.progress import Progress

    from worldgraph.engines.wfm import colours
    from worldgraph.nodes import WorldgraphError

    if not args.data:
        raise WorldgraphError("train colours needs --data (a scene dataset folder)")
    if args.clips < 1:
        raise WorldgraphError(f"--clips must be at least 1, got {args.clips}")
    with Progress(transient=True) as bar:
        task = bar.add_task("learning colours", total=args.clips)
        try:
            counts = colours.learn_table(args.data, args.clips,
                                         lambda done, total: bar.update(task, completed=done, total=total))
        except (OSError, ValueError) as e:
            raise WorldgraphError(str(e)) from None
    command = f"worldgraph train colours --data {args.data}" + (f" --clips {args.clips}" if args.clips != 300 else "")
    table = colours.export_table(counts, {"data": str(args.data), "clips": args.clips, "command": command})
    print(f"colour table from {int(counts.sum()):,} pixels of {args.clips} clips; wrote {table}")
    return EXIT_OK


def cmd_guard(args: argparse.Namespace) -> int:
    from worldgraph.engines.guard.blocklist import ListError
    from worldgraph.engines.guard.prompt import guard_for
    from worldgraph.engines.runtime import EngineError
    from worldgraph.engines.tokenizer.checkpoint import CheckpointError
    from worldgraph.nodes import WorldgraphError

    prompts = list(args.prompts)
    if args.file:
        try:
            raw = args.file.read_bytes()
        except OSError as e:
            raise WorldgraphError(f"{args.file}: cannot read ({e.strerror})") from None
        text = raw.decode("utf-8", errors="replace")  # bad bytes become U+FFFD, not a crash
        if "\ufffd" in text and b"\xef\xbf\xbd" not in raw:
            print(f"warning: {args.file} is not valid UTF-8; undecodable bytes were replaced", file=sys.stderr)
        prompts += text.splitlines()
    if not prompts:
        raise WorldgraphError("give prompts as arguments or with --file")
    if not 0 <= args.threshold <= 1:
        raise WorldgraphError(f"--threshold {args.threshold} is not within 0..1")
    try:
        guard = guard_for(not args.no_blocklist, not args.no_classifier, args.threshold,
                          tuple(args.block_list), tuple(args.allow_list), args.backend)
        results = [(p, guard.check(p)) for p in prompts]
    except (ListError, CheckpointError, EngineError) as e:
        raise WorldgraphError(str(e)) from None
    for prompt, r in results:
        if args.json:
            print(json.dumps({"prompt": prompt} | r.to_json()))
        else:
            shown = prompt if len(prompt) <= 70 else prompt[:67] + "..."
            print(f"{'SAFE   ' if r.safe else 'BLOCKED'} {shown!r}: {r.reason}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from worldgraph.nodes import WorldgraphError

    if args.what == "guard":
        return eval_guard(args)
    if args.data is None:
        raise WorldgraphError(f"eval {args.what} needs --data (a held-out dataset folder)")
    if args.what == "wfm":
        return eval_wfm(args)
    if args.what == "ar":
        return eval_ar(args)
    if args.what == "estimator":
        return eval_estimator(args)
    if args.what == "action":
        from worldgraph.action_cli import eval_action

        return eval_action(args)
    if args.what == "camera":
        from worldgraph.camera_cli import eval_camera

        return eval_camera(args)
    from worldgraph.engines.tokenizer.checkpoint import CheckpointError, load
    from worldgraph.engines.tokenizer.evaluate import evaluate

    if not args.model:
        raise WorldgraphError("eval tokenizer needs --model (cv4x8x8 or dv4x8x8)")
    with stage_progress() as progress:
        try:
            model = load(args.model)
            result = evaluate(model, args.data, args.clips, args.frames, start=args.start,
                              progress=lambda done, total: progress("videos", done, total))
        except (CheckpointError, ValueError) as e:
            raise WorldgraphError(str(e)) from None
    if args.json:
        print(json.dumps(result))
        return EXIT_OK
    print(f"{result['model']} on {result['videos']} videos ({result['clips']} clips x styles), "
          f"{result['frames']} frames" + (f" from frame {result['start']}:" if result["start"] else ":"))
    print(f"  PSNR {result['psnr']:.2f} dB   SSIM {result['ssim']:.3f}")
    print(f"  first frame {result['first_frame_psnr']:.2f} dB, "
          f"other frames {result['other_frames_psnr']:.2f} dB")
    print("  PSNR per frame: " + " ".join(f"{v:.1f}" for v in result["psnr_per_frame"]))
    if result["motion_iou"] is not None:
        print(f"  motion IoU {result['motion_iou']:.3f} (where frames change, input vs reconstruction)")
    if "codebook_usage" in result:
        print(f"  codebook usage {result['codebook_usage']:.1%} ({result['codes_used']} codes)")
    print(f"  encode {result['encode_ms']:.0f} ms, decode {result['decode_ms']:.0f} ms per clip")
    return EXIT_OK


def eval_wfm(args: argparse.Namespace) -> int:
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.engines.wfm.api import DEFAULT, Sampling, WFMInputError, load
    from worldgraph.engines.wfm.evaluate import evaluate
    from worldgraph.nodes import WorldgraphError

    with stage_progress() as progress:
        try:
            model = load(args.model or DEFAULT)
            table = evaluate(model, args.data, Sampling(steps=args.steps, guidance=args.guidance), args.clips,
                             args.frames, batch=args.batch, jitter=args.jitter,
                             text2world=None if args.no_text2world else Sampling(steps=args.steps,
                                                                                 guidance=args.t2w_guidance),
                             progress=progress)
        except (CheckpointError, WFMInputError, ValueError) as e:
            raise WorldgraphError(str(e)) from None
    if args.json:
        print(json.dumps(table))
        return EXIT_OK
    s = table["settings"]
    print(f"{model.name} on {s['clips']} held-out clips, {s['frames']} frames, {s['sampler']} {s['steps']} steps, "
          f"guidance {s['guidance']:g}; physical variance: bodies moved ~{s['jitter_m'] * 1000:g} mm")
    print_physics_table(table)
    if "text2world" in table:
        t = table["text2world"]
        print(f"text2world (guidance {t['guidance']:g}) prompt adherence {t['prompt_adherence']:.1%} "
              f"over {t['prompts']} "
              f"prompts (the simulator's own clips: {t['prompt_adherence_simulator']:.1%}; "
              f"clips paired with another caption: {t['prompt_adherence_shuffled']:.1%})")
    return EXIT_OK


def eval_estimator(args: argparse.Namespace) -> int:
    from worldgraph.engines.estimate.evaluate import evaluate
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.nodes import WorldgraphError

    try:
        with stage_progress() as progress:
            result = evaluate(args.data, args.clips, lambda done, total: progress("clips", done, total))
    except (CheckpointError, ValueError) as e:
        raise WorldgraphError(str(e)) from None
    if args.json:
        print(json.dumps(result))
        return EXIT_OK
    depth, seg = result["depth"], result["seg"]
    print(f"estimators on {result['clips']} clips (lower si-RMSE / abs-rel and higher mIoU are better):")
    for look, value in depth["si_rmse"].items():
        rel = depth["abs_rel"].get(look)
        print(f"  depth {look:>9}: si-RMSE {value:.4f}" + ("" if rel is None else f"   abs-rel {rel:.4f}"))
    for look, value in seg["miou"].items():
        classes = "  ".join(f"{c} {v:.2f}" for c, v in seg["per_class"][look].items())
        print(f"  seg   {look:>9}: mIoU {value:.4f}   ({classes})")
    return EXIT_OK


def print_physics_table(table: dict[str, Any]) -> None:
    from worldgraph.engines.wfm.evaluate import METRICS

    header = ["method", "given"] + [*METRICS, "score", "physics_iq", "s/clip"]
    print("  ".join(f"{h:>22}" if i == 0 else f"{h[:10]:>10}" for i, h in enumerate(header)))
    for method, figures in table.items():
        if method in ("settings", "text2world"):
            continue
        for cond in figures["mse"]:
            cells = [figures[k].get(cond) for k in (*METRICS, "score", "physics_iq")]
            shown = "  ".join("         -" if v is None else f"{v:>10.4g}" for v in
                              [*cells, figures.get("seconds_per_clip")])
            print(f"{method:>22}  {cond + ' lat.':>10}  {shown}")
    print("score: ours (IoUs and inverse MSE as fractions of physical variance's, each capped at 1); "
          "physics_iq: the published formula, clip(mean IoU ratio - (MSE - MSE_pv), 0, 1), on our motion masks")
    missing = table.get("physical_variance", {}).get("unavailable", {})
    if missing:
        clips = max(table["physical_variance"]["clips"].values()) + len(missing)
        print(f"physical variance: no retake for {len(missing)} of {clips} clip(s), left out of its row:")
        for clip, why in missing.items():
            print(f"  clip {clip}: {why}")


def eval_ar(args: argparse.Namespace) -> int:
    from worldgraph.engines.ar.api import DEFAULT, load
    from worldgraph.engines.ar.evaluate import evaluate
    from worldgraph.engines.ar.sample import ARInputError, ARSampling
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.engines.wfm import api as wfm
    from worldgraph.nodes import WorldgraphError

    settings = ARSampling(args.temperature, args.top_p, args.seed, args.search, args.candidates, args.beam_width)
    with stage_progress() as progress:
        try:
            settings.check()
            model = load(args.model or DEFAULT)
            diffusion = None if args.no_wfm else (wfm.load(), wfm.Sampling(steps=args.steps, guidance=args.guidance,
                                                                            seed=args.seed))
            table = evaluate(model, args.data, settings, args.clips, args.frames, batch=args.batch,
                             jitter=args.jitter, verifier=args.verifier, diffusion=diffusion, progress=progress)
        except (CheckpointError, ARInputError, wfm.WFMInputError, ValueError) as e:
            raise WorldgraphError(str(e)) from None
    if args.json:
        print(json.dumps(table))
        return EXIT_OK
    s = table["settings"]
    search = "" if s["search"] == "none" else (f", {s['search']} N={s['candidates']}"
                                               + (f" width {s['beam_width']}" if s["search"] == "beam" else "")
                                               + f" ({s['verifier']} verifier)")
    print(f"{model.name} on {s['clips']} held-out clips, {s['frames']} frames, temperature {s['temperature']:g}, "
          f"top-p {s['top_p']:g}{search}; physical variance: bodies moved ~{s['jitter_m'] * 1000:g} mm")
    print_physics_table(table)
    return EXIT_OK


# ------------------------------------------------------------------------------ verify


def cmd_verify(args: argparse.Namespace) -> int:
    """A dataset, a batch output or a curated folder against its manifest (and shards):
    every problem on stderr (or in ``--json``), 1 when there is any."""
    from worldgraph.engines.sim.integrity import MANIFEST, check
    from worldgraph.nodes import WorldgraphError

    if not (args.dataset / MANIFEST).is_file():
        raise WorldgraphError(f"{args.dataset}: no {MANIFEST}: not a worldgraph dataset")
    found = check(args.dataset)
    clips, problems = len(found.records), found.problems
    if args.json:
        print(json.dumps({"dataset": str(args.dataset), "layout": found.layout, "clips": clips,
                          "problems": problems}))
    else:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{'ok' if not problems else 'damaged'}: {args.dataset} ({found.layout}): {clips} clips"
              + (f", {len(problems)} problem(s)" if problems else ", every file matches the manifest"))
    return EXIT_OK if not problems else EXIT_FAILED


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "nodes": cmd_nodes, "verify": cmd_verify,
            "transfer": cmd_transfer, "train": cmd_train, "eval": cmd_eval, "guard": cmd_guard,
            "engines": engines_cli.cmd_engines, "batch": batch_cli.cmd_batch,
            "curate": curate_cli.cmd_curate, "models": models_cli.cmd_models, "edit": edit_cli.cmd_edit}
