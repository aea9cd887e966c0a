"""Transfer: ControlNet branches that steer the world model with structure (blur, edges,
depth, segmentation), after Cosmos-Transfer1."""
