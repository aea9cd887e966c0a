"""Batch generation: one graph over a sweep of inputs, on every local core or a Ray cluster.

    spec.py        the sweep spec (TOML): parsed and checked, errors name the file and field
    items.py       the spec expanded into work items with deterministic ids, checked against the graph
    store.py       the output folder: per-item folders, manifest.jsonl, logs, resume, a lock
    worker.py      what runs one item in a worker process (models stay loaded between items)
    local.py       the process-pool backend          ray_backend.py  the Ray backend (extra `distributed`)
    runner.py      dispatch, retries, the failure budget, a full disk, the summary
    progress.py    the progress bar, plain lines and JSON lines       cli.py  ``worldgraph batch``

Nothing here imports torch, MuJoCo or Ray at import time.
"""
