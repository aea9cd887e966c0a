"""Video curation: raw footage in, training clips out.

Stages, one module each: ``source`` (probe, decode to a fixed fps and size, refuse bad
files with a reason), ``shots`` (cut detection), ``filters`` (motion, quality, overlay
text), ``dedup`` (tokenizer-encoder embeddings, cosine threshold), ``captions``
(simulator metadata or flagged empty), ``shards`` (webdataset tars by resolution and
length) and ``pipeline`` (the run, the dataset folder and the report).
"""

from .pipeline import CurateConfig, CurateError, CurateReport, curate, load_config

__all__ = ["CurateConfig", "CurateError", "CurateReport", "curate", "load_config"]
