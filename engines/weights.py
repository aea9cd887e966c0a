"""Model files: safetensors weights beside a JSON file that holds the config and the
weights' sha256. Every model family saves and loads through here, so every checkpoint is
checked the same way before torch sees it: a missing file, a file that is not the one the
JSON describes (truncated, replaced), weights that do not fit the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from .catalog import CheckpointError, infer_family
from .media.files import atomic_output, sha256

__all__ = ["CheckpointError", "load_into", "locate", "read_meta", "save"]


def save(model: nn.Module, weights: Path, meta: dict[str, Any], half: bool = True) -> Path:
    """Write ``weights`` (fp16 when ``half``) and the JSON beside it (``meta`` + sha256),
    the card naming its ``family`` (inferred when ``meta`` does not say) and ``name``, so
    the catalog lists it."""
    from safetensors.torch import save_file

    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v).contiguous()
             for k, v in model.state_dict().items()}
    with atomic_output(weights) as tmp:
        save_file(state, str(tmp))
    with atomic_output(weights.with_suffix(".json")) as tmp:
        card = meta | {"family": meta.get("family") or infer_family(meta), "name": weights.stem}
        tmp.write_text(json.dumps(card | {"sha256": sha256(weights)}, indent=1, sort_keys=True) + "\n")
    return weights


def locate(name: str, folder: Path, what: str, shipped: list[str]) -> Path:
    """The .json of checkpoint ``name`` (a name in ``folder`` or a path to a .json), checked
    to exist with its weights; otherwise an error naming both files and what is shipped."""
    json_path = Path(name) if name.endswith(".json") else folder / f"{name}.json"
    weights = json_path.with_suffix(".safetensors")
    if not json_path.exists() or not weights.exists():
        raise CheckpointError(f"no {what} checkpoint {name!r} ({json_path} / {weights.name}); "
                              f"shipped: {', '.join(shipped) or 'none'}")
    return json_path


def read_meta(json_path: Path) -> dict[str, Any]:
    """The JSON beside a checkpoint, or a CheckpointError saying why it cannot be read."""
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{json_path}: cannot read the checkpoint description ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{json_path}: not a checkpoint description (expected a JSON object)")
    return meta


def load_into(model: nn.Module, weights: Path, meta: dict[str, Any]) -> nn.Module:
    """Fill ``model`` from ``weights`` after checking the file against ``meta['sha256']`` and
    every tensor name and shape against the model; returns it in eval mode, fp32, frozen."""
    json_name = weights.with_suffix(".json").name
    if meta.get("sha256") and sha256(weights) != meta["sha256"]:
        raise CheckpointError(f"{weights}: sha256 differs from {json_name}: the file is "
                              f"truncated or not the one the config describes")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{weights}: cannot read the weights ({e})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(f"{what}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                           for what, keys in (("missing", missing), ("unexpected", unexpected),
                                              ("wrong shape", wrong)) if keys)
        raise CheckpointError(f"{weights}: weights do not match the config in {json_name} ({detail})")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval().requires_grad_(False)
