"""worldgraph: a world-model toolkit as a node graph over USD files."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("worldgraph")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
