"""Planning with the world model: model-predictive control by the cross-entropy method."""
