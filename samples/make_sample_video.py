"""Make samples/videos/bouncing_shapes.mp4: coloured shapes bouncing on a checkered floor.

The sample graphs need a video to work on before the physics scenes exist; this one is
drawn here, so the project ships nothing it did not make. Run:
    python samples/make_sample_video.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from worldgraph.engines.media.video import write_video

SIZE, FRAMES, FPS = 128, 48, 24


def draw_frames() -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    floor = np.where(((yy // 16) + (xx // 16)) % 2 == 0, 200, 150).astype(np.uint8)
    background = np.repeat(floor[..., None], 3, axis=-1)
    shapes = [  # (x, y, vx, vy, radius, RGB colour, is_box)
        [30.0, 30.0, 2.5, 0.0, 14, (220, 60, 50), False],
        [90.0, 20.0, -1.8, 1.0, 12, (50, 110, 220), True],
        [60.0, 80.0, 1.2, -2.0, 10, (240, 200, 40), False],
    ]
    frames = []
    for _ in range(FRAMES):
        frame = background.copy()
        for s in shapes:
            s[3] += 0.6  # gravity, pixels per frame squared
            s[0] += s[2]
            s[1] += s[3]
            r = s[4]
            if s[1] > SIZE - r:  # bounce on the floor, losing a little energy
                s[1], s[3] = SIZE - r, -0.85 * s[3]
            if not r <= s[0] <= SIZE - r:
                s[0], s[2] = float(np.clip(s[0], r, SIZE - r)), -s[2]
            x, y = int(s[0]), int(s[1])
            cv2.circle(frame, (x + 3, y + 3), r, (90, 90, 90), -1, cv2.LINE_AA)  # shadow
            if s[6]:
                cv2.rectangle(frame, (x - r, y - r), (x + r, y + r), s[5], -1, cv2.LINE_AA)
            else:
                cv2.circle(frame, (x, y), r, s[5], -1, cv2.LINE_AA)
        frames.append(frame)
    return np.stack(frames)


if __name__ == "__main__":
    out = Path(__file__).parent / "videos" / "bouncing_shapes.mp4"
    write_video(out, draw_frames(), FPS, crf=18)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
