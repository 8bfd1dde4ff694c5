"""`train … log "runs/NAME"`: the event files Loom writes, read back with
TensorBoard's own reader, hold the history table's figures at the model's
epochs, the weight sparsity of a model with masks, and the weights'
histograms at the epochs asked for."""

import re
import subprocess

import pytest
from tensorboard.backend.event_processing import event_accumulator, event_file_loader

from conftest import LOOM

MODEL = """seed 2
data g = glyphs n 200 size 8
data v = glyphs n 60 size 8
model m {
  input 8x8x1
  flatten
  dense 24 relu sparse 50% as hidden
  dense 10 softmax as out
}
"""


def loom_eval(code, cwd):
    result = subprocess.run([LOOM, "eval", "-"], input=code, capture_output=True, text=True, cwd=cwd, timeout=120)
    return result


def history(stdout):
    """The rows of every `training` table in `loom eval`'s output, by epoch: each column's text."""
    rows, header = {}, None
    for line in stdout.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0] == "epoch":
            header = cells
        elif header and cells[0].isdigit():
            rows[int(cells[0])] = dict(zip(header, cells))
    return rows


def figure(text):
    """A table cell as a number and half a unit of its last digit (percentages as fractions)."""
    text = text.replace(" s", "").replace(",", "")
    scale = 0.01 if text.endswith("%") else 1.0
    number = text.rstrip("%")
    if "e" in number:  # three significant digits: 5e-04
        return float(number), abs(float(number)) * 5e-3
    decimals = len(number.split(".")[1]) if "." in number else 0
    return float(number) * scale, 0.5 * 10 ** -decimals * scale


def accumulate(folder):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.SCALARS: 0,
                                                                        event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    return acc


def test_the_log_holds_the_history_tables_figures_at_the_models_epochs(tmp_path):
    code = MODEL + 'train m on g epochs 4 batch 20 validate v schedule step 2 0.5 log "runs/first" histograms every 2\n'
    result = loom_eval(code, tmp_path)
    assert result.returncode == 0, result.stderr
    table = history(result.stdout)
    assert sorted(table) == [1, 2, 3, 4], result.stdout
    folder = tmp_path / "runs" / "first"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 1 and re.fullmatch(r"events\.out\.tfevents\.\d{10}\.[^/]+", files[0]), files
    # The first record is the version event.
    first = next(iter(event_file_loader.EventFileLoader(str(folder / files[0])).Load()))
    assert first.file_version == "brain.Event:2"

    acc = accumulate(folder)
    tags = acc.Tags()
    columns = {"loss": "loss", "accuracy": "accuracy", "val_loss": "val loss", "val_accuracy": "val accuracy", "lr": "lr"}
    for tag, column in columns.items():
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [1, 2, 3, 4], tag
        for e in events:
            value, tolerance = figure(table[e.step][column])
            assert abs(e.value - value) <= tolerance * 1.001 + 1e-6, (tag, e.step, e.value, table[e.step][column])
    assert [e.value for e in acc.Scalars("lr")] == pytest.approx([0.001, 0.001, 0.0005, 0.0005])
    # A model with masks: each layer's weight sparsity and the total, every epoch.
    for tag in ("weight_sparsity/hidden", "weight_sparsity/out", "weight_sparsity/total"):
        assert tag in tags["scalars"], tags["scalars"]
    hidden = acc.Scalars("weight_sparsity/hidden")
    assert [e.step for e in hidden] == [1, 2, 3, 4]
    # 50% of the kernel's 64×24 weights masked; the 24 biases not.
    assert all(abs(e.value - 768 / (1536 + 24)) < 0.01 for e in hidden), [e.value for e in hidden]
    assert acc.Scalars("weight_sparsity/out")[0].value < 0.05
    # Histograms every 2 epochs, of every parameter.
    assert sorted(tags["histograms"]) == ["hidden/bias", "hidden/kernel", "out/bias", "out/kernel"]
    for tag in tags["histograms"]:
        assert [h.step for h in acc.Histograms(tag)] == [2, 4], tag
    kernel = acc.Histograms("hidden/kernel")[-1].histogram_value
    assert kernel.num == 64 * 24
    assert sum(kernel.bucket) == 64 * 24



def test_a_second_train_adds_a_file_whose_steps_go_on_from_the_models_epochs(tmp_path):
    code = MODEL + 'train m on g epochs 2 batch 20 log "runs/again"\ntrain m on g epochs 3 batch 20 log "runs/again"\n'
    result = loom_eval(code, tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "runs" / "again"
    assert len(list(folder.iterdir())) == 2
    table = history(result.stdout)
    assert sorted(table) == [1, 2, 3, 4, 5], result.stdout
    acc = accumulate(folder)
    losses = acc.Scalars("loss")
    assert [e.step for e in losses] == [1, 2, 3, 4, 5]
    for e in losses:
        value, tolerance = figure(table[e.step]["loss"])
        assert abs(e.value - value) <= tolerance * 1.001 + 1e-6, (e.step, e.value, table[e.step]["loss"])
    # Without `histograms`, each train's histograms come after its last epoch alone.
    assert [h.step for h in acc.Histograms("out/kernel")] == [2, 5]


def test_histograms_without_log_and_a_file_in_the_folders_place_are_refused(tmp_path):
    result = loom_eval(MODEL + "train m on g epochs 1 histograms every 2\n", tmp_path)
    assert result.returncode != 0 and "`histograms` go into the `log` folder" in result.stderr, result.stderr
    (tmp_path / "runs").write_text("not a folder")
    result = loom_eval(MODEL + 'train m on g epochs 1 log "runs/a"\n', tmp_path)
    assert result.returncode != 0 and "cannot write the log" in result.stderr, result.stderr
    assert (tmp_path / "runs").read_text() == "not a folder"
