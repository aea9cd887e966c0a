"""Video and image files, and the classic image operations the control nodes use."""
