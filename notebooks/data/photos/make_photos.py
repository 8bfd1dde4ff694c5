"""Writes the tutorials' grey photographs from scikit-image's sample images
(public domain or CC0; see README.md): each converted to grey (ITU-R BT.709
weights on the stored values), halved in each direction (the mean of each
2×2 block) and written as an 8-bit grey PNG. Needs only NumPy; run once,
with the wheel from `pip download --no-deps scikit-image` unpacked:

    .venv-bench/bin/python notebooks/data/photos/make_photos.py SKIMAGE_DATA_DIR
"""
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

NAMES = ["astronaut", "camera", "chelsea", "coffee", "brick", "grass"]


def chunks(data):
    at = 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        yield kind, data[at + 8:at + 8 + length]
        at += 12 + length


def read_png(path):
    """An 8-bit, non-interlaced grey or RGB PNG (what these files are) as an array."""
    data = path.read_bytes()
    header = dict(chunks(data))[b"IHDR"]
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (0, 2) and interlace == 0, f"{path}: unsupported PNG"
    channels = 3 if colour == 2 else 1
    raw = zlib.decompress(b"".join(body for kind, body in chunks(data) if kind == b"IDAT"))
    stride = width * channels
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        up = out[y - 1] if y else np.zeros(stride, np.int32)
        if kind == 0:
            out[y] = line
        elif kind == 2:
            out[y] = (line + up) & 255
        else:
            # Sub, Average and Paeth depend on the pixel to the left: one at a time.
            row = np.zeros(stride, np.int32)
            for x in range(stride):
                left = row[x - channels] if x >= channels else 0
                corner = up[x - channels] if x >= channels else 0
                if kind == 1:
                    predict = left
                elif kind == 3:
                    predict = (left + up[x]) // 2
                else:
                    p = left + up[x] - corner
                    pa, pb, pc = abs(p - left), abs(p - up[x]), abs(p - corner)
                    predict = left if pa <= pb and pa <= pc else up[x] if pb <= pc else corner
                row[x] = (line[x] + predict) & 255
            out[y] = row
    return out.reshape(height, width, channels).astype(np.float64)


def write_grey_png(path, image):
    height, width = image.shape
    rows = b"".join(b"\x02" + (image[y] - (image[y - 1] if y else 0)).astype(np.uint8).tobytes() for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


source = Path(sys.argv[1])
for name in NAMES:
    image = read_png(source / f"{name}.png")
    grey = image @ [0.2126, 0.7152, 0.0722] if image.shape[2] == 3 else image[:, :, 0]
    h, w = grey.shape[0] // 2 * 2, grey.shape[1] // 2 * 2
    half = grey[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    out = Path(__file__).with_name(f"{name}.png")
    write_grey_png(out, np.clip(np.rint(half), 0, 255).astype(np.int32))
    print(f"wrote {out}: {half.shape[1]}x{half.shape[0]}, {out.stat().st_size} bytes")
