"""Curation quality and speed on long videos with known answers.

Long videos are stitched from simulated clips (each clip a shot, 24 fps, 128x128), with
injected near-duplicates (an earlier shot again, brighter, re-encoded), static segments
(one frame held) and text overlays. One `curate` run over them (at 16 fps, as shipped)
is scored against the truth:

- cut detection precision / recall / F1 (a cut counts within +-1 frame; target F1 >= 0.95)
- dedup precision / recall (positives: clips of the injected copies)
- filter precision / recall (positives: clips of static and text segments; a clip dropped
  by the motion, quality or text filter is a predicted positive), and per filter
- throughput in minutes of video per minute of curation (one process, the CPU as it is)

    python benchmarks/curate_quality.py [--videos 3] [--shots 10] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from worldgraph.engines.curate import CurateConfig, curate
from worldgraph.engines.media.video import read_video, write_video
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, read_manifest, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig

FPS, FRAMES, SIZE = 24.0, 72, 128  # source: 3 s shots
TEXTS = ("2024-05-01 12:00:31", "CAM 03  REC", "Breaking: robot arm test", "LIVE  speed 35 km/h")


def overlay(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = frames.copy()
    text = TEXTS[int(rng.integers(len(TEXTS)))]
    scale = float(rng.uniform(0.35, 0.45))
    y = int(rng.choice([14, 120]))
    colour = (255, 255, 255) if rng.random() < 0.7 else (255, 230, 0)
    for f in out:
        cv2.putText(f, text, (4, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    return out


def build(folder: Path, videos: int, shots: int, seed: int) -> list[dict]:
    """Write the long videos; returns per video its segments (kind, source frames)."""
    rng = np.random.default_rng(seed)
    plan = [[str(rng.choice(["clip"] * 6 + ["dup", "static", "text"])) for _ in range(shots)] for _ in range(videos)]
    for p in plan:
        p[0] = "clip"
    needed = sum(k in ("clip", "text", "static") for p in plan for k in p)
    data = folder / "sim"
    settings = ClipSettings(frames=FRAMES, fps=FPS, width=SIZE, height=SIZE, styles=("real",),
                            camera_motion="orbit", camera_amount=30.0)
    t = time.perf_counter()
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=seed, count=needed), settings), data, workers=2)
    print(f"simulated {needed} clips in {time.perf_counter() - t:.0f} s")
    clips = [read_video(data / "clips" / r["id"] / "rgb.mp4")[0] for r in read_manifest(data)]
    truth, made, used = [], [], 0
    for v, kinds in enumerate(plan):
        frames, segments = [], []
        for kind in kinds:
            if kind == "dup" and made:
                origin = made[int(rng.integers(len(made)))]
                seg = np.clip(origin[1].astype(int) + int(rng.integers(6, 14)), 0, 255).astype(np.uint8)
                label = {"kind": "dup", "of": origin[0]}
            else:
                kind = "clip" if kind == "dup" else kind
                clip = clips[used]
                used += 1
                seg = {"clip": clip, "text": overlay(clip, rng), "static": np.repeat(clip[:1], FRAMES, 0)}[kind]
                label = {"kind": kind}
            start = sum(len(f) for f in frames)
            label |= {"start": start, "end": start + len(seg), "name": f"v{v}s{len(segments)}"}
            if kind == "clip":
                made.append((label["name"], seg))
            frames.append(seg)
            segments.append(label)
        path = write_video(folder / "long" / f"long_{v}.mp4", np.concatenate(frames), FPS, crf=20)
        truth.append({"path": str(path.resolve()), "segments": segments})
    return truth


def to_ticks(frame: int) -> int:
    """A source frame's index at the curation's 16 fps (the first tick at or after it)."""
    return math.ceil(frame / FPS * 16 - 1e-6)


def pr(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "tp": tp, "fp": fp, "fn": fn}


def score(truth: list[dict], report) -> dict:
    inputs = {i["input"]: i for i in report.inputs}
    tp = fp = fn = 0
    for video in truth:
        expected = [to_ticks(s["start"]) for s in video["segments"][1:]]
        found = list(inputs[video["path"]]["cuts"])
        for c in expected:
            hit = next((f for f in found if abs(f - c) <= 1), None)
            if hit is None:
                fn += 1
            else:
                tp += 1
                found.remove(hit)
        fp += len(found)
    cuts = pr(tp, fp, fn)

    def segment(path: str, span: list[int]) -> dict:
        mid = (span[0] + span[1]) / 2 / 16 * FPS
        video = next(v for v in truth if v["path"] == path)
        return next(s for s in video["segments"] if s["start"] <= mid < s["end"])

    clips = [(segment(d["input"], d["frames"]), d["filter"]) for d in report.dropped if "key" in d]
    clips += [(segment(c["source"], c["source_frames"]), "kept") for c in report.clips]
    bad = ("static", "text")
    filtered = ("motion", "quality", "text")
    filt = pr(sum(s["kind"] in bad and f in filtered for s, f in clips),
              sum(s["kind"] not in bad and f in filtered for s, f in clips),
              sum(s["kind"] in bad and f not in filtered for s, f in clips))
    dedup = pr(sum(s["kind"] == "dup" and f == "dedup" for s, f in clips),
               sum(s["kind"] != "dup" and f == "dedup" for s, f in clips),
               sum(s["kind"] == "dup" and f != "dedup" for s, f in clips))
    per = {"motion on static": pr(sum(s["kind"] == "static" and f == "motion" for s, f in clips),
                                  sum(s["kind"] != "static" and f == "motion" for s, f in clips),
                                  sum(s["kind"] == "static" and f != "motion" for s, f in clips)),
           "text on overlays": pr(sum(s["kind"] == "text" and f == "text" for s, f in clips),
                                  sum(s["kind"] != "text" and f == "text" for s, f in clips),
                                  sum(s["kind"] == "text" and f != "text" for s, f in clips))}
    kinds = {k: sum(s["kind"] == k for s, _ in clips) for k in ("clip", "dup", "static", "text")}
    return {"cuts": cuts, "filters": filt, "per_filter": per, "dedup": dedup, "clips_by_truth": kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--shots", type=int, default=10, help="shots per long video (3 s each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        truth = build(folder, args.videos, args.shots, args.seed)
        t = time.perf_counter()
        report = curate([Path(v["path"]) for v in truth], folder / "out", CurateConfig())
        wall = time.perf_counter() - t
        result = score(truth, report) | {"summary": report.summary(), "wall_s": round(wall, 2)}
    result["throughput_video_min_per_min"] = round(report.seconds_of_video / wall, 2)
    if args.json:
        print(json.dumps(result))
        return
    s = result["summary"]
    print(f"{args.videos} long videos, {s['video_minutes']:g} min of video at {FPS:g} fps, {SIZE}x{SIZE}; "
          f"{s['candidates']} candidate clips, {s['kept']} kept; by truth: {result['clips_by_truth']}")
    for name in ("cuts", "dedup", "filters"):
        m = result[name]
        print(f"  {name:<8} precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}  "
              f"(tp {m['tp']}, fp {m['fp']}, fn {m['fn']})")
    for name, m in result["per_filter"].items():
        print(f"    {name:<17} precision {m['precision']:.3f}  recall {m['recall']:.3f}")
    print(f"  throughput {result['throughput_video_min_per_min']:.2f} min of video per min "
          f"({s['video_minutes']:g} min in {wall:.1f} s, one process, tokenizer load included)")


if __name__ == "__main__":
    main()
