"""Post-trained world models (Cosmos-Predict1's robotics and camera-control models):
the diffusion WFM fine-tuned to take actions or a camera path, and planning with it."""
