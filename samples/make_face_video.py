"""Make samples/videos/astronaut_pan.mp4: a slow pan across NASA's public-domain astronaut
portrait (shipped inside scikit-image), for the face-blur sample graph. Run:
    python samples/make_face_video.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

from worldgraph.engines.media.video import write_video

if __name__ == "__main__":
    image = cv2.resize(data.astronaut(), (320, 320))
    frames = np.stack([image[20 + i : 276 + i, 10 + 2 * i : 266 + 2 * i] for i in range(0, 24)])
    out = Path(__file__).parent / "videos" / "astronaut_pan.mp4"
    write_video(out, frames, 12, crf=23)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(frames)} frames)")
