"""Shipped tokenizer checkpoints: fp16 safetensors + a JSON config with the file's sha256.

Loading checks everything a user could get wrong before torch does: a missing file, a
file that is not the one the JSON describes (truncated, replaced), weights that do not
fit the config. Models load once per process.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import torch

from ..media.files import atomic_output, sha256
from .model import Tokenizer, TokenizerConfig

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


class CheckpointError(Exception):
    """A checkpoint cannot be loaded; the message names the file and why."""


def export(model: Tokenizer, name: str, extra: dict[str, Any], folder: Path = CHECKPOINTS) -> Path:
    """Write ``name.safetensors`` (fp16) and ``name.json`` (config, sha256, ``extra``)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}.safetensors"
    state = {k: (v.half() if v.is_floating_point() else v).contiguous()
             for k, v in model.state_dict().items()}
    with atomic_output(weights) as tmp:
        save_file(state, str(tmp), metadata={"name": name})
    config = {"config": model.cfg.to_json() | {"name": name}, "sha256": sha256(weights)} | extra
    with atomic_output(folder / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")
    return weights


def available(folder: Path = CHECKPOINTS) -> list[str]:
    """The tokenizer checkpoints in ``folder`` (other models' files live there too)."""
    return sorted(p.stem for p in folder.glob("*.json") if '"config"' in p.read_text())


@cache
def load(name: str, folder: Path = CHECKPOINTS) -> Tokenizer:
    """The tokenizer ``name`` (a shipped name, or a path to its .json), in eval mode, fp32."""
    json_path = Path(name) if name.endswith(".json") else folder / f"{name}.json"
    weights = json_path.with_suffix(".safetensors")
    if not json_path.exists() or not weights.exists():
        known = ", ".join(available(folder)) or "none"
        raise CheckpointError(f"no tokenizer checkpoint {name!r} ({json_path} / {weights.name}); "
                              f"shipped: {known}")
    try:
        meta = json.loads(json_path.read_text())
        cfg = TokenizerConfig.from_json(meta["config"])
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{json_path}: not a tokenizer config ({e})") from None
    if meta.get("sha256") and sha256(weights) != meta["sha256"]:
        raise CheckpointError(f"{weights}: sha256 differs from {json_path.name}: the file is "
                              f"truncated or not the one the config describes")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{weights}: cannot read the weights ({e})") from None
    model = Tokenizer(cfg)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(f"{what}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                           for what, keys in (("missing", missing), ("unexpected", unexpected),
                                              ("wrong shape", wrong)) if keys)
        raise CheckpointError(f"{weights}: weights do not match the config in {json_path.name} ({detail})")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval().requires_grad_(False)


def latent_statistics(model: Tokenizer, videos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the latents of ``videos`` [N, 3, T, H, W] in [-1, 1]."""
    with torch.no_grad():
        z = torch.cat([model.encode(v[None]) for v in videos])  # [N, D, T', h, w]
    flat = z.transpose(0, 1).flatten(1)
    return flat.mean(1), flat.std(1).clamp_min(1e-6)
