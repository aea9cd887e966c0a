"""Control estimators: depth and segmentation from RGB frames, for footage that comes without them."""
