"""Camera control measured against the simulator.

For every held-out clip whose camera moves (orbit, dolly, pan), each method continues the
clip's first frame for ``frames`` frames; the camera-conditioned model follows the clip's
true camera path. Methods, all with the same seed per clip and the same sampler:
- camera: the camera-conditioned model, scene-only prompt (the caption minus its camera
  clause) plus the rays of the true path;
- unconditioned: the base world model's Video2World with the same scene-only prompt;
- text_camera: the base model with the full caption, whose last clause says what the camera
  does ("the camera orbits right"): the camera told in words instead of rays;
- copy_first_frame: frame 0 held still; tokenizer_reconstruction: the truth through the
  tokenizer (the ceiling of any continuation).

Figures: PSNR / SSIM of the generated frames (1..T-1) against the simulator's; pose errors
of the camera motion re-estimated from each video (``camera_pose``), medians over clips and
frames 4, 8, 12, 16, beside the same estimate on the true video (the estimator's floor) and
a still camera (what copy_first_frame shows).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..estimate import api as estimators
from ..media.video import read_video
from ..metrics import psnr, ssim
from ..sim.dataset import read_manifest
from ..tokenizer.api import TEMPORAL
from ..wfm.api import Sampling, WorldModel
from . import camera_pose
from .camera import plucker
from .camera_api import CameraModel, continue_clips
from .camera_data import clip_camera, scene_caption

MOVING = ("orbit", "dolly", "pan")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False)
class HeldOut:
    """One held-out clip: its real-style frames, camera path and captions."""

    id: str
    kind: str  # orbit | dolly | pan
    truth: np.ndarray  # uint8 [T, H, W, 3]
    poses: np.ndarray  # [T, 4, 4] world-from-camera
    intrinsics: np.ndarray
    caption: str

    @property
    def scene(self) -> str:
        return scene_caption(self.caption)


def moving_clips(data: Path, clips: int = 0, frames: int = 17) -> list[HeldOut]:
    """The first ``clips`` (0: all) finished clips of ``data`` whose camera moves."""
    import json

    out = []
    for r in read_manifest(data):
        folder = data / "clips" / r["id"]
        try:
            kind = json.loads((folder / "metadata.json").read_text())["camera_motion"]["kind"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{folder / 'metadata.json'}: no camera motion ({e})") from None
        if kind not in MOVING:
            continue
        video, _ = read_video(folder / "rgb.mp4", max_frames=frames)
        poses, intrinsics, _ = clip_camera(folder)
        if len(video) < frames or len(poses) < frames:
            raise ValueError(f"{folder}: {min(len(video), len(poses))} frames, fewer than {frames}")
        out.append(HeldOut(r["id"], kind, video, poses[:frames], intrinsics, r.get("caption", "")))
        if clips and len(out) == clips:
            break
    if not out:
        raise ValueError(f"{data}: no finished clip with a moving camera (orbit, dolly, pan) to evaluate on")
    return out


def frame_metrics(video: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """PSNR / SSIM of frames 1.. (frame 0 is given) of uint8 clips [T, H, W, 3]."""
    a = torch.from_numpy(video[1:]).permute(0, 3, 1, 2).float() / 255
    b = torch.from_numpy(truth[1:]).permute(0, 3, 1, 2).float() / 255
    return {"psnr": psnr(a, b).mean().item(), "ssim": ssim(a, b).mean().item()}


def pose_errors(video: np.ndarray, clip: HeldOut, depth0: np.ndarray, static: np.ndarray,
                still: bool = False) -> list[camera_pose.PoseError]:
    """Pose errors of the camera motion in ``video`` (``still``: a camera that never moves)."""
    truth = camera_pose.relative_cv(clip.poses)
    targets = tuple(t for t in camera_pose.TARGETS if t < len(video))
    found = dict.fromkeys(targets, np.eye(4)) if still else camera_pose.estimate(
        video, depth0, clip.intrinsics, static, targets)
    return [e for t in targets if (e := camera_pose.error(found[t], truth[t])) is not None]


def _median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.median(kept)), 4) if kept else None


def summarize(errors: list[camera_pose.PoseError]) -> dict[str, float | None]:
    return {f"pose_{k}": _median([getattr(e, k) for e in errors]) for k in
            ("rotation_deg", "direction_deg", "scale", "translation_m")}


def evaluate(
    camera: CameraModel,
    base: WorldModel,
    data: Path,
    settings: Sampling,
    clips: int = 0,
    frames: int = 17,
    batch: int = 8,
    poses: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The table ``worldgraph eval camera`` prints: method -> figure (see the module doc)."""
    held = moving_clips(data, clips, frames)
    n = len(held)
    latent_frames = 1 + (frames - 1) // TEMPORAL
    truths = np.stack([c.truth for c in held])
    x = torch.from_numpy(truths).permute(0, 4, 1, 2, 3).float() / 127.5 - 1  # [N, 3, T, H, W]
    latents = torch.cat([camera.space.encode(x[i : i + batch]) for i in range(0, n, batch)])
    size = truths.shape[2:4]
    rays = torch.stack([torch.from_numpy(plucker(c.poses, c.intrinsics, size, frames)) for c in held])
    scene_text = camera.model.encode_text([c.scene for c in held])
    full_text = base.encode_text([c.caption for c in held])

    def run(model: WorldModel, text: tuple[torch.Tensor, torch.Tensor], with_rays: bool) -> Callable[[list[int]],
                                                                                                     np.ndarray]:
        def go(ids: list[int]) -> np.ndarray:
            z = continue_clips(model, settings, latents[ids][:, :, :1], latent_frames,
                               (text[0][ids], text[1][ids]), [settings.seed + i for i in ids],
                               rays[ids] if with_rays else None)
            return model.decode(z)

        return go

    methods = {"camera": run(camera.model, scene_text, True), "unconditioned": run(base, scene_text, False),
               "text_camera": run(base, full_text, False)}
    videos: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for name, go in methods.items():
        t0, parts = time.perf_counter(), []
        for start in range(0, n, batch):
            parts.append(go(list(range(start, min(start + batch, n)))))
            if progress:
                progress(name, min(start + batch, n), n)
        videos[name] = np.concatenate(parts)
        seconds[name] = round((time.perf_counter() - t0) / n, 3)
    videos["copy_first_frame"] = np.repeat(truths[:, :1], frames, axis=1)
    videos["tokenizer_reconstruction"] = np.concatenate(
        [camera.decode(latents[i : i + batch]) for i in range(0, n, batch)])

    table: dict[str, Any] = {}
    for name, vids in videos.items():
        per = [frame_metrics(v, c.truth) for v, c in zip(vids, held, strict=True)]
        table[name] = {k: round(float(np.mean([p[k] for p in per])), 4) for k in ("psnr", "ssim")}
        table[name]["psnr_by_motion"] = {kind: round(float(np.mean([p["psnr"] for p, c in zip(per, held, strict=True)
                                                                     if c.kind == kind])), 4)
                                         for kind in MOVING if any(c.kind == kind for c in held)}
        if name in seconds:
            table[name]["seconds_per_clip"] = seconds[name]
    if poses:
        depth0 = estimators.depth(truths[:, 0])  # [N, H, W]: frame 0 is given, the same for every method
        static = estimators.classes(truths[:, 0]) <= 1  # background and floor: what does not move by itself
        scale = [float(np.median(d / np.maximum(_true_depth(data, c), 1e-3)))
                 for d, c in zip(depth0, held, strict=True)]
        for name in ("camera", "unconditioned", "text_camera", "truth", "copy_first_frame"):
            errs: list[camera_pose.PoseError] = []
            kinds: list[str] = []
            for i, c in enumerate(held):
                video = truths[i] if name == "truth" else videos[name][i]
                found = pose_errors(video, c, depth0[i], static[i], still=name == "copy_first_frame")
                errs, kinds = errs + found, kinds + [c.kind] * len(found)
                if progress:
                    progress(f"pose: {name}", i + 1, n)
            table.setdefault(name, {}).update(summarize(errs))
            table[name]["pose_by_motion"] = {
                kind: summarize([e for e, k in zip(errs, kinds, strict=True) if k == kind])
                for kind in MOVING if kind in kinds}
        table["settings_pose"] = {"depth_scale_median": round(float(np.median(scale)), 4),
                                  "frames": list(camera_pose.TARGETS)}
    table["settings"] = {"clips": n, "frames": frames, "steps": settings.steps, "guidance": settings.guidance,
                         "sampler": settings.method, "seed": settings.seed, "camera_model": camera.name,
                         "base_model": base.name, "motions": {k: sum(c.kind == k for c in held) for k in MOVING},
                         "sampling": asdict(settings)}
    return table


def _true_depth(data: Path, clip: HeldOut) -> np.ndarray:
    """The simulator's depth of the clip's frame 0 (only to report the estimator's scale)."""
    return np.load(data / "clips" / clip.id / "depth.npy", allow_pickle=False)[0].astype(np.float32)


ROWS = ("camera", "unconditioned", "text_camera", "copy_first_frame", "tokenizer_reconstruction", "truth")
COLUMNS = (("psnr", "PSNR"), ("ssim", "SSIM"), ("pose_rotation_deg", "rot err°"), ("pose_direction_deg", "dir err°"),
           ("pose_scale", "scale err"), ("pose_translation_m", "trans err m"), ("seconds_per_clip", "s/clip"))


def format_table(table: dict[str, Any]) -> str:
    """The side-by-side table, as ``worldgraph eval camera`` and the benchmark print it."""
    s = table["settings"]
    motions = ", ".join(f"{v} {k}" for k, v in s["motions"].items())
    lines = [f"{s['camera_model']} vs {s['base_model']} on {s['clips']} held-out clips with a moving camera "
             f"({motions}), {s['frames']} frames from frame 0, {s['sampler']} {s['steps']} steps, guidance "
             f"{s['guidance']:g}, seed {s['seed']} + clip index",
             f"{'method':>24}" + "".join(f"{label:>12}" for _, label in COLUMNS)]
    for row in ROWS:
        if row not in table:
            continue
        cells = [table[row].get(key) for key, _ in COLUMNS]
        lines.append(f"{row:>24}" + "".join(f"{'-':>12}" if v is None else f"{v:>12.4g}" for v in cells))
    if "settings_pose" in table:
        lines.append(f"pose: medians over clips and frames {table['settings_pose']['frames']}; direction and scale "
                     f"where the true camera moves >= {camera_pose.MIN_TRANSLATION * 100:g} cm; truth = the same "
                     "estimate on the simulator's video (the estimator's floor); copy_first_frame = a still camera; "
                     f"depth estimator's scale on frame 0: x{table['settings_pose']['depth_scale_median']:.3g}")
    by = {row: table[row]["psnr_by_motion"] for row in ("camera", "unconditioned", "text_camera") if row in table}
    for kind in MOVING:
        if all(kind in v for v in by.values()) and by:
            lines.append(f"PSNR {kind:>5}: " + "  ".join(f"{row} {v[kind]:.2f}" for row, v in by.items()))
    pose_rows = ("camera", "unconditioned", "text_camera", "truth", "copy_first_frame")
    for kind in MOVING:
        cells = [(row, table[row].get("pose_by_motion", {}).get(kind, {})) for row in pose_rows if row in table]
        if cells and all(c.get("pose_rotation_deg") is not None for _, c in cells):
            lines.append(f"rot err° / trans err m {kind:>5}: " + "  ".join(
                f"{row} {c['pose_rotation_deg']:.2f}/{c['pose_translation_m']:.3f}" for row, c in cells))
    return "\n".join(lines)
