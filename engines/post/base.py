"""Starting a post-trained model from the shipped world model, as Cosmos post-trains its
WFMs: every base weight is copied; what is new (the action embedding, the ray channels'
columns of the patch embedding) starts at zero, so the model begins as the base model."""

from __future__ import annotations

import dataclasses

import torch

from .. import catalog
from .. import weights as files
from ..wfm.api import DEFAULT
from ..wfm.model import DiT, WFMConfig


def base_config(name: str = DEFAULT) -> WFMConfig:
    meta = files.read_meta(catalog.find(name, "wfm").card)
    return WFMConfig.from_json(meta["config"])


def post_trained(cfg: WFMConfig, base: str = DEFAULT) -> DiT:
    """A ``cfg`` network (the base's config plus action_dim / ray_channels) holding the
    base checkpoint's weights."""
    base_cfg = base_config(base)
    expected = dataclasses.replace(cfg, name=base_cfg.name, action_dim=0, ray_channels=0, predicts_change=False,
                                   map_channels=0)
    if expected != base_cfg:
        raise ValueError(f"{cfg.name}: only action_dim, ray_channels, map_channels and predicts_change may differ "
                         f"from the base {base}")
    json_path = catalog.find(base, "wfm").card
    base_net = files.load_into(DiT(base_cfg), json_path.with_suffix(".safetensors"), files.read_meta(json_path))
    return grown(base_net, cfg)


def grown(start: torch.nn.Module, cfg: WFMConfig) -> DiT:
    """A ``cfg`` network holding every weight of ``start``; what ``start`` lacks (an action
    embedding, extra input channels) starts at zero, so it computes what ``start`` did."""
    net = DiT(cfg)
    state = net.state_dict()
    for key, value in start.state_dict().items():
        if key == "patch_in.weight":  # patch features are channel-major: the new channels come last
            state[key] = torch.zeros_like(state[key])
            state[key][:, : value.shape[1]] = value
        else:
            state[key] = value
    net.load_state_dict(state)
    return net.requires_grad_(True).train()
