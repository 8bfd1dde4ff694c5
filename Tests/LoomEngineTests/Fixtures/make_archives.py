"""Makes the archive fixtures ArchiveTests and the archive statement tests
read, with numpy and Python's zipfile and tarfile (run once from the
repository's root: python3 Tests/LoomEngineTests/Fixtures/make_archives.py):

- keras.npz: Keras's four arrays (x_train y_train x_test y_test, uint8), as
  numpy.savez_compressed writes them (deflated; numpy's ZIP64 local headers);
- arrays.npz: float32 samples, int64 labels and float64 targets, stored
  (numpy.savez);
- zip64.npz: one float32 array under every ZIP64 field a reader meets past
  4 GiB (sizes and offset in the central directory's extra field, the ZIP64
  end record and its locator), built by hand and checked with numpy.load;
- names-gnu.tar.gz (a GNU long name, a directory, a short name),
  names-ustar.tar.gz (a name in ustar's prefix and name fields) and
  names-pax.tar.gz (a pax `path`);
- cifar-10-binary.tar.gz: CIFAR-10's binary layout (cifar-10-batches-bin/,
  five train batches of one record, a test batch of two, batches.meta.txt),
  GNU format as the original. Sample n's pixel (y, x) is red (8x + 17n),
  green (8y + 25·label), blue (4(x + 2y) + n), each mod 256: the tests
  compute the images Keras's layout gives (N×32×32×3) from that rule.
"""
import gzip
import io
import struct
import zlib
import tarfile
from pathlib import Path

import numpy as np

here = Path(__file__).parent
rng = np.random.default_rng(25)

np.savez_compressed(here / "keras.npz",
                    x_train=rng.integers(0, 256, (12, 4, 4), dtype=np.uint8), y_train=np.arange(12, dtype=np.uint8) % 3,
                    x_test=rng.integers(0, 256, (6, 4, 4), dtype=np.uint8), y_test=np.array([0, 1, 2, 0, 1, 3], dtype=np.uint8))
np.savez(here / "arrays.npz",
         x=rng.standard_normal((5, 3)).astype(np.float32), y=np.array([0, 1, 1, 0, 2], dtype=np.int64),
         t=rng.standard_normal((5, 2)))


def zip64(path, name, data):
    """A stored entry whose central record defers its sizes and offset to ZIP64 fields."""
    name, crc, full = name.encode(), zlib.crc32(data), 0xFFFFFFFF
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, len(data), len(data), len(name), 0) + name + data
    extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, full, full, len(name), len(extra),
                          0, 0, 0, 0, full) + name + extra
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(central), len(local))
    locator = struct.pack("<IIQI", 0x07064B50, 0, len(local) + len(central), 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, full, full, 0)
    path.write_bytes(local + central + record + locator + end)


buffer = io.BytesIO()
np.save(buffer, np.array([[1.5, -2.0], [0.25, 8.0]], dtype=np.float32))
zip64(here / "zip64.npz", "x.npy", buffer.getvalue())
assert np.load(here / "zip64.npz")["x"].tolist() == [[1.5, -2.0], [0.25, 8.0]]


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def gzipped_tar(path, fmt, fill):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        fill(tar)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))


long_name = "folder/" + "a" * 120 + ".txt"  # more than ustar's 100 characters


def gnu(tar):
    add(tar, long_name, b"long\n")  # a GNU `L` entry carries the name
    directory = tarfile.TarInfo("folder")
    directory.type = tarfile.DIRTYPE
    tar.addfile(directory)
    add(tar, "short.txt", b"short\n")


gzipped_tar(here / "names-gnu.tar.gz", tarfile.GNU_FORMAT, gnu)
gzipped_tar(here / "names-ustar.tar.gz", tarfile.USTAR_FORMAT,
            lambda tar: add(tar, "p" * 80 + "/" + "q" * 60 + ".txt", b"prefixed\n"))  # prefix and name fields
gzipped_tar(here / "names-pax.tar.gz", tarfile.PAX_FORMAT,
            lambda tar: add(tar, "pax/" + "\u00e9" * 70 + ".txt", b"pax\n"))  # not ASCII: a pax `path` record


def record(label, index):
    """A record: a label byte, then red, green and blue planes of 32×32 (patterned, so it compresses)."""
    y, x = np.mgrid[0:32, 0:32]
    planes = np.stack([(x * 8 + index * 17) % 256, (y * 8 + label * 25) % 256, ((x + 2 * y) * 4 + index) % 256]).astype(np.uint8)
    return bytes([label]) + planes.tobytes()


train_labels, test_labels = [3, 7, 0, 9, 1], [5, 2]
records = [record(label, i) for i, label in enumerate(train_labels + test_labels)]


def cifar(tar):
    base = "cifar-10-batches-bin/"
    names = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"
    add(tar, base + "batches.meta.txt", names)
    for i in range(5):
        add(tar, base + f"data_batch_{i + 1}.bin", records[i])
    add(tar, base + "test_batch.bin", records[5] + records[6])
    add(tar, base + "readme.html", b"<p>A fixture in CIFAR-10's binary layout.</p>\n")


gzipped_tar(here / "cifar-10-binary.tar.gz", tarfile.GNU_FORMAT, cifar)
