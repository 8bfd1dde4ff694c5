"""Figures: `set plots auto` gives notebooks SVG beside the text and terminals
text alone; the PNGs inside the SVG grids are valid files, checked with
Python's own zlib and CRC rather than Loom's code."""

import base64
import binascii
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from conftest import LOOM, ROOT

BIN = Path(sys.executable).parent
PNG_URI = re.compile(r'data:image/png;base64,([A-Za-z0-9+/=]+)')
ATOMS = ["data p = patches n 200", "dictionary D = learn p atoms 16 sparsity 3 iterations 2", "show atoms D"]


def decode_png(data):
    """(width, height, rows of RGBA tuples), checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, chunks = 8, b"", []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert binascii.crc32(kind + body) == crc, kind
        chunks.append(kind)
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6)
        if kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    assert len(raw) == height * stride
    rows = []
    for y in range(height):
        line = raw[y * stride:(y + 1) * stride]
        assert line[0] == 0, "filter type"
        rows.append([tuple(line[1 + 4 * x:5 + 4 * x]) for x in range(width)])
    return width, height, rows


def images(svg):
    return [decode_png(base64.b64decode(m)) for m in PNG_URI.findall(svg)]


def run_notebook(tmp_path, sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    NotebookClient(nb, kernel_name="loom", timeout=120).execute()
    return [o for c in nb.cells for o in c.outputs]


def test_every_committed_figure_holds_valid_pngs():
    svgs = list((ROOT / "Tests" / "LoomRenderTests" / "Golden" / "plots").glob("*.svg"))
    svgs += list((ROOT / "docs" / "gallery").glob("*.svg"))
    texts = [p.read_text() for p in svgs]
    for tutorial in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(str(tutorial), as_version=4).cells:
            texts += [o["data"]["image/svg+xml"] for o in cell.get("outputs", []) if "image/svg+xml" in o.get("data", {})]
    decoded = [image for text in texts for image in images(text)]
    assert len(decoded) > 100


def test_special_values_have_their_colours():
    svg = (ROOT / "Tests" / "LoomRenderTests" / "Golden" / "plots" / "grid-special.svg").read_text()
    pixels = {p for _, _, rows in images(svg) for row in rows for p in row}
    assert (0xFF, 0x00, 0xFF, 0xFF) in pixels  # NaN
    assert (0x7F, 0x00, 0x00, 0xFF) in pixels  # +inf


def test_spy_plot_cells_are_transparent_where_empty():
    svg = (ROOT / "Tests" / "LoomRenderTests" / "Golden" / "plots" / "spy.svg").read_text()
    [(_, _, rows)] = images(svg)
    alphas = {p[3] for row in rows for p in row}
    assert alphas == {0, 0xFF}


def test_notebooks_get_svg_beside_the_text_by_default(tmp_path):
    outputs = run_notebook(tmp_path, ATOMS)
    atoms = outputs[-1]["data"]
    assert "text/plain" in atoms and "image/svg+xml" in atoms
    decoded = images(atoms["image/svg+xml"])
    assert len(decoded) == 16 and all((w, h) == (8, 8) for w, h, _ in decoded)


def test_set_plots_text_keeps_notebooks_to_text(tmp_path):
    outputs = run_notebook(tmp_path, ["set plots text"] + ATOMS)
    assert all("image/svg+xml" not in o.get("data", {}) for o in outputs)


def test_a_terminal_gets_text_alone(tmp_path):
    program = tmp_path / "atoms.loom"
    program.write_text("\n".join(ATOMS) + "\n")
    result = subprocess.run([LOOM, "eval", str(program)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "16 image(s) of 8×8" in result.stdout and "<svg" not in result.stdout


def test_nbconvert_html_draws_the_loss_curve_as_a_figure(tmp_path):
    # The braille text curve depends on the browser's fonts (it ran past its
    # axis in nbconvert's HTML); the page shows the SVG figure instead.
    tutorial = ROOT / "notebooks" / "02-cnn.ipynb"
    result = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(tutorial)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "02-cnn.html").read_text()
    figures = re.findall(r'data-mime-type="image/svg\+xml"[^>]*>\s*<img[^>]*src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert any(b"loss" in base64.b64decode(f) for f in figures)
    assert not re.search("[\u2800-\u28ff]", html), "braille text plots in the page"
