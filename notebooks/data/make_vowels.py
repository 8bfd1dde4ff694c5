"""Writes vowels-train.csv.gz and vowels-test.csv.gz from the UCI Japanese Vowels
data set as sktime's wheel carries it (JapaneseVowels_TRAIN.ts and _TEST.ts,
the published split: 270 and 370 utterances of nine speakers).

Each utterance is 7 to 29 frames of 12 LPC cepstrum coefficients. A row holds
one utterance padded to 29 frames with frames of zeros put before it (Keras's
`pad_sequences` default, `padding="pre"`, so a recurrent layer reads the real
frames last), frame by frame (29 × 12 values, so `shape 29x12` reads it back),
then the speaker, 0 to 8 (the source's 1 to 9, less one). The values are the
source's, written as it writes them; the files are gzipped (a third of the
size; Loom's `csv` reads them as they are), with no time stamp, so the same
wheel gives the same bytes. Run once, with the wheel downloaded by
`pip download --no-deps sktime==1.2.0`:

    python notebooks/data/make_vowels.py sktime-1.2.0-py3-none-any.whl
"""
import gzip
import sys
import zipfile
from pathlib import Path

FRAMES, COEFFICIENTS = 29, 12
MEMBER = "sktime/datasets/data/JapaneseVowels/JapaneseVowels_{}.ts"


def utterances(text):
    """(frames as lists of 12 value strings, speaker) for each @data line of a .ts file."""
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip().lower() == "@data":
            break
    for line in lines:
        if not line.strip():
            continue
        *channels, speaker = line.strip().split(":")
        assert len(channels) == COEFFICIENTS, f"{len(channels)} channels"
        series = [c.split(",") for c in channels]
        length = len(series[0])
        assert all(len(s) == length for s in series) and 1 <= length <= FRAMES, length
        yield [[s[t] for s in series] for t in range(length)], int(speaker)


def main(wheel):
    header = ",".join(f"t{t}c{c + 1}" for t in range(FRAMES) for c in range(COEFFICIENTS)) + ",speaker"
    with zipfile.ZipFile(wheel) as z:
        for part in ("TRAIN", "TEST"):
            rows = [header]
            for frames, speaker in utterances(z.read(MEMBER.format(part)).decode()):
                padding = [["0"] * COEFFICIENTS] * (FRAMES - len(frames))
                rows.append(",".join(v for frame in padding + frames for v in frame) + f",{speaker - 1}")
            out = Path(__file__).with_name(f"vowels-{part.lower()}.csv.gz")
            out.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode(), compresslevel=9, mtime=0))
            print(f"wrote {out}: {len(rows) - 1} utterances")


if __name__ == "__main__":
    main(sys.argv[1])
