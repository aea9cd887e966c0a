"""The built-in node families. Each module is one family (``worldgraph.<family>.*``)."""
