"""Writes the picture fixtures of PictureTests: tiny PNG files of each kind
(written here with zlib and struct alone), PGM files, and the patches
scikit-learn's extract_patches_2d cuts from one of them. Run once:

    .venv-bench/bin/python Tests/LoomEngineTests/Fixtures/make_pictures.py
"""
import struct
import zlib
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.image import extract_patches_2d

out = Path(__file__).with_name("pictures")
out.mkdir(exist_ok=True)


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def scanlines(rows):
    """Rows of bytes, each behind filter type 0."""
    return b"".join(b"\x00" + bytes(r) for r in rows)


def png(name, width, height, depth, colour, rows, interlace=0, palette=None, raw=None):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    body = chunk(b"IHDR", ihdr)
    if palette is not None:
        body += chunk(b"PLTE", bytes(v for rgb in palette for v in rgb))
    data = raw if raw is not None else scanlines(rows)
    (out / name).write_bytes(b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b""))


grey = (np.arange(7 * 6).reshape(6, 7) * 37 % 256).astype(np.uint8)  # 7 wide, 6 high
png("grey8.png", 7, 6, 8, 0, grey.tolist())
rgb = (np.arange(3 * 2 * 3).reshape(2, 3, 3) * 29 % 256).astype(np.uint8)
png("rgb8.png", 3, 2, 8, 2, rgb.reshape(2, 9).tolist())
# 16 bits a value, v·257 so that 8 bits hold v exactly.
png("grey16.png", 7, 6, 16, 0, [b"".join(struct.pack(">H", int(v) * 257) for v in row) for row in grey])
# A palette of greys: indices 0–3, two bits a pixel, four pixels a byte.
levels = [0, 85, 170, 255]
indices = np.arange(8 * 2).reshape(2, 8) % 4
packed = [[(r[i] << 6) | (r[i + 1] << 4) | (r[i + 2] << 2) | r[i + 3] for i in range(0, 8, 4)] for r in indices]
png("palette2.png", 8, 2, 2, 3, packed, palette=[(v, v, v) for v in levels])
np.save(out / "palette2-expected.npy", (np.array(levels)[indices] / 255).astype(np.float32))

# Adam7 interlacing of the grey image: seven passes, each its own scanlines.
passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
raw = b""
for x0, y0, dx, dy in passes:
    sub = grey[y0::dy, x0::dx]
    if sub.size:
        raw += scanlines(sub.tolist())
png("interlaced.png", 7, 6, 8, 0, None, interlace=1, raw=raw)

(out / "grey8-p5.pgm").write_bytes(b"P5\n# a comment\n7 6\n255\n" + grey.tobytes())
(out / "grey16-p5.pgm").write_bytes(b"P5 7 6 65535\n" + b"".join(struct.pack(">H", int(v) * 257) for v in grey.flat))
# Two bytes a value, big-endian, the largest value 1000: values i·83 mod 1001.
(out / "wide-p5.pgm").write_bytes(b"P5 4 3 1000\n" + b"".join(struct.pack(">H", i * 83 % 1001) for i in range(12)))
(out / "grey-p2.pgm").write_text("P2\n7 6\n# largest value\n255\n" + "\n".join(" ".join(map(str, r)) for r in grey) + "\n")

image = grey / 255
np.save(out / "grey8-patches3.npy", extract_patches_2d(image, (3, 3)).astype(np.float32))
# At stride 2: the same positions, every second row and column (NumPy slicing).
every = extract_patches_2d(image, (3, 3)).reshape(4, 5, 3, 3)
np.save(out / "grey8-patches3-stride2.npy", every[::2, ::2].reshape(-1, 3, 3).astype(np.float32))
print("wrote", sorted(p.name for p in out.iterdir()))
