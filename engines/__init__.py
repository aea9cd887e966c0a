"""Everything that computes: media I/O, image ops, models, training, export, runtimes,
physics. Plain libraries: nothing here imports ``worldgraph.nodes`` or ``worldgraph.ui``."""
