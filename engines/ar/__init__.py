"""The autoregressive world model: a GPT over discrete video tokens, its sampler, search and verifiers."""
