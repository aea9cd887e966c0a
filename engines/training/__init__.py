"""One training loop for every model family.

A family subclasses ``Trainer`` (its recipes, data, model, batches, loss and exported
card); ``train`` runs it: seeding, resume (model, optimizer, EMA and the generators that
place the data, safetensors + JSON), bf16 autocast, data-parallel slices over
``torchrun`` processes (DDP, or FSDP to shard a model), gradient accumulation, EMA,
``metrics.jsonl`` and its plot, progress, and ``export`` of the shipped checkpoint.

- ``precision``: the device check and bf16 autocast
- ``family``: what a family gives (``Trainer``), ``EMARun``, recipes and their registry
- ``parallel``: torch.distributed: the process group, batch slices, DDP / FSDP
- ``state``: a run on disk, unsharded, so it resumes on any world size
- ``metrics`` / ``plot``: the run's figures as JSON lines and a PNG
- ``loop``: the loop itself
"""

from .family import Context, EMARun, Schedule, Trainer, recipe_of, register_recipe, resolve, unregister_recipe
from .loop import Launch, command, export, family_device, train
from .plot import plot
from .precision import autocast, native_bf16, scheduled_lr, training_device
from .state import load_state, save_state

__all__ = ["Context", "EMARun", "Launch", "Trainer", "autocast", "command", "export", "family_device",
           "load_state", "native_bf16", "plot", "recipe_of", "register_recipe", "resolve", "save_state", "Schedule",
           "scheduled_lr", "train", "training_device", "unregister_recipe"]
