"""``worldgraph models``: the checkpoints the catalog finds (``list``, ``show``), checked
(``verify``: the weights' sha256, then each loads with its family's loader, every tensor
name and shape against its config), and a user's own checkpoint added so nodes offer it
(``add``). Also the help texts fed by the catalog and the trainers' recipe tables, made
only when help is printed."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2

EPILOG = """search path (the first card of a name wins):
  $WORLDGRAPH_MODELS   folders separated by ':'
  user folder          $XDG_DATA_HOME/worldgraph/models (~/.local/share/worldgraph/models); `models add` copies there
  shipped              the checkpoints that come with worldgraph

exit codes:
  0    done (list: unusable cards are reported on stderr)
  1    verify: a checkpoint is damaged, does not load or a card cannot be read
  2    unknown model, unreadable file or bad usage (add: a checkpoint that is not one)
"""


def add_parser(commands: Any) -> None:
    models = commands.add_parser("models", help="list, show, verify and add model checkpoints (the catalog)",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every checkpoint along the search path")
    listing.add_argument("--family", help="only this family (tokenizer, wfm, controlnet, ...)")
    listing.add_argument("--json", action="store_true", help="JSON on stdout")
    listing.add_argument("--markdown", action="store_true", help="the shipped models as the README's table")
    show = actions.add_parser("show", help="one checkpoint's card: family, provenance, figures, config")
    show.add_argument("name", help="a catalog name or a card (.json)")
    show.add_argument("--json", action="store_true", help="JSON on stdout")
    check = actions.add_parser("verify", help="sha256 of the weights and a load with the family's loader "
                                              "(tensor names and shapes); exit 1 on any problem")
    check.add_argument("names", nargs="*", metavar="NAME", help="catalog names or cards (.json); none: every one")
    check.add_argument("--json", action="store_true", help="JSON lines on stdout")
    add = actions.add_parser("add", help="copy a checkpoint you trained (card + weights, sha-checked) into the "
                                         "user folder, so nodes offer it")
    add.add_argument("card", type=Path, metavar="PATH.json", help="the checkpoint's card; its .safetensors beside it")
    add.add_argument("--to", type=Path, help="another folder (default: the user folder)")
    add.add_argument("--replace", action="store_true", help="replace a checkpoint of that name already there")
    add.add_argument("--json", action="store_true", help="JSON on stdout")


def cmd_models(args: argparse.Namespace) -> int:
    from worldgraph.engines import catalog
    from worldgraph.nodes import WorldgraphError

    try:
        if args.action == "list":
            return list_models(args)
        if args.action == "show":
            return show(catalog.find(args.name), args)
        if args.action == "verify":
            return verify(args)
        return add(args)
    except catalog.CheckpointError as e:
        raise WorldgraphError(str(e)) from None


def list_models(args: argparse.Namespace) -> int:
    from worldgraph.engines import catalog
    from worldgraph.nodes import WorldgraphError

    if args.family and args.family not in catalog.FAMILIES:
        raise WorldgraphError(f"unknown family {args.family!r}; families: {', '.join(catalog.FAMILIES)}")
    if args.markdown:
        print(catalog.markdown_table(), end="")
        return EXIT_OK
    found, problems = catalog.entries(args.family), catalog.problems()
    hidden = catalog.shadowed()
    if args.json:
        print(json.dumps({"folders": [{"origin": o, "path": str(f)} for o, f in catalog.folders()],
                          "models": [e.to_json() for e in found],
                          "shadowed": [{"card": str(h.card), "by": str(w.card)} for h, w in hidden],
                          "problems": [{"card": str(p.card), "reason": p.reason} for p in problems]}, indent=1))
        return EXIT_OK
    for entry in found:
        family = f"{entry.family} ({entry.kind})" if entry.kind else entry.family
        made = f"  from {entry.made_from}" if entry.made_from else ""
        print(f"{entry.name:<24} {family:<16} {entry.origin:<8} {entry.sha256[:12]}{made}")
    for h, w in hidden:
        print(f"note: {h.card} is hidden by {w.card} (same name, earlier on the search path)", file=sys.stderr)
    for problem in problems:
        print(f"warning: unusable checkpoint card {problem}", file=sys.stderr)
    return EXIT_OK


def show(entry: Any, args: argparse.Namespace) -> int:
    from worldgraph.engines import catalog

    if args.json:
        print(json.dumps(entry.to_json() | {"config": entry.config}, indent=1))
        return EXIT_OK
    family = f"{entry.family} ({entry.kind})" if entry.kind else entry.family
    rows = [("family", f"{family}: {catalog.FAMILIES[entry.family]}"), ("card", str(entry.card)),
            ("weights", str(entry.weights)), ("found in", entry.origin), ("sha256", entry.sha256),
            ("made from", entry.made_from), ("builds on", entry.base), ("data", entry.data),
            ("recipe", str(entry.meta.get("recipe", ""))), ("command", str(entry.meta.get("command", "")))]
    rows += [(k, catalog.format_figure(v)) for k, v in entry.metrics.items()]
    rows += [("config", json.dumps(entry.config, sort_keys=True))]
    print(entry.name)
    for key, value in rows:
        if value:
            print(f"  {key:<12} {value}")
    for hidden, winner in catalog.shadowed():
        if winner.card == entry.card:
            print(f"  {'hides':<12} {hidden.card}")
    return EXIT_OK


def verify(args: argparse.Namespace) -> int:
    from worldgraph.engines import catalog, families

    if args.names:
        chosen, unusable = [catalog.find(n) for n in args.names], []
    else:
        chosen, unusable = catalog.entries(), catalog.problems()
    failed = 0
    for problem in unusable:
        failed += 1
        report(args, {"card": str(problem.card), "ok": False, "problems": [problem.reason]},
               f"UNUSABLE {problem.card}: {problem.reason}")
    for entry in chosen:
        problems = families.verify(entry)
        failed += bool(problems)
        text = f"ok: {entry.name} ({entry.family}, {entry.card})" if not problems else \
            f"DAMAGED {entry.name} ({entry.card}): " + "; ".join(problems)
        report(args, {"name": entry.name, "family": entry.family, "card": str(entry.card), "ok": not problems,
                      "problems": problems}, text)
    if not args.json:
        total = len(chosen) + len(unusable)
        print(f"{total - failed} of {total} checkpoints verified", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def report(args: argparse.Namespace, row: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(row), flush=True)
    else:
        print(text, file=sys.stdout if row["ok"] else sys.stderr, flush=True)


def add(args: argparse.Namespace) -> int:
    from worldgraph.engines import catalog

    entry = catalog.add(args.card, args.to, replace=args.replace)
    if args.json:
        print(json.dumps(entry.to_json()))
    else:
        print(f"added {entry.name} ({entry.family}) to {entry.card.parent}; `worldgraph models verify {entry.name}` "
              "loads it")
        found = catalog.find(entry.name)
        if found.card != entry.card:
            print(f"note: {found.card} has the same name and comes earlier on the search path: it is the one used",
                  file=sys.stderr)
    return EXIT_OK


# ------------------------------------------------------------------------------ generated help

# what `worldgraph train WHAT` trains -> the modules whose RECIPES it takes (controlnet: one
# branch, then --modality all)
TRAINERS = {
    "tokenizer": ("worldgraph.engines.tokenizer.train",),
    "wfm": ("worldgraph.engines.wfm.train",),
    "controlnet": ("worldgraph.engines.transfer.train", "worldgraph.engines.transfer.joint"),
    "ar": ("worldgraph.engines.ar.train",),
    "estimator": ("worldgraph.engines.estimate.train",),
    "action": ("worldgraph.engines.post.action_train",),
    "camera": ("worldgraph.engines.post.camera_train",),
}


def recipes() -> dict[str, list[list[str]]]:
    """Per trainable family, the recipe names of each of its modules (test recipes left out)."""
    return {what: [[r for r in importlib.import_module(m).RECIPES if not r.startswith("tiny-")] for m in modules]
            for what, modules in TRAINERS.items()}


def columns(rows: list[tuple[str, str]]) -> str:
    return "".join(textwrap.fill(text, 100, initial_indent=f"  {key:<11} ", subsequent_indent=" " * 14,
                                 break_on_hyphens=False) + "\n" for key, text in rows)


def recipes_text() -> str:
    rows = []
    for what, groups in recipes().items():
        text = ", ".join(groups[0])
        if what == "controlnet":
            text += "; with --modality all: " + ", ".join(groups[1])
        rows.append((what, text))
    return "recipes (`--recipe`):\n" + columns(rows) + "  guard, colours: no recipe\n"


def models_text() -> str:
    from worldgraph.engines import catalog

    rows = [(family, ", ".join(names)) for family in catalog.FAMILIES if (names := catalog.names(family))]
    return "installed models (`worldgraph models list`):\n" + columns(rows)


class GeneratedHelp(argparse.RawDescriptionHelpFormatter):
    """Fills ``{recipes}`` and ``{models}`` in a description or epilog from the trainers'
    recipe tables and the catalog, only when the help is printed."""

    def add_text(self, text: str | None) -> None:
        if text and "{recipes}" in text:
            text = text.replace("{recipes}", recipes_text())
        if text and "{models}" in text:
            text = text.replace("{models}", models_text())
        super().add_text(text)
