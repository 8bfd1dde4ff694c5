"""`mpirun -np 2 loom run`: the ranks split each batch's shards and hand
them over in shard order, so the weights, the files and the notebook are
those of one process, bit for bit; rank 0 alone writes; a rank that fails
alone stops the job within seconds instead of leaving the others waiting."""

import json
import os
import re
import shutil
import subprocess
import time

from pathlib import Path

import nbformat
import psutil
import pytest

from conftest import LOOM, SMALL_MODEL, wait_for
from test_loom_run import write_notebook
from test_protocol import collect_iopub
from test_tutorials import mask

MPIRUN = shutil.which("mpirun")
pytestmark = pytest.mark.skipif(
    MPIRUN is None, reason="Open MPI's mpirun is not installed (Debian: apt-get install openmpi-bin; `make test` installs it)")

# Batches of 64 make four shards (two per rank); the last batch of each
# epoch fewer (an odd count), a recurrent layer's 16-sample shards fewer
# still, and batchnorm's steps run whole on every rank.
CELLS = [
    "seed 7\ndata g = glyphs n 300 size 8\nsplit g train 0.8\ndata w = sines n 300 steps 10 classes 4\nsplit w train 0.8",
    # Dense: a fixed sparse mask (sparse kernels at 90 %), k-winners, dropout, a validation set.
    """model d {
  input 8x8x1
  flatten
  dense 48 relu sparse 90%
  kwta 12 boost 1
  dropout 0.2
  dense 24 relu sparse 50%
  dense 10 softmax
}
train d on g.train epochs 3 batch 64 validate g.test
prune d 60%
train d on g.train epochs 2 batch 40 optimizer adam
save d "d.safetensors"
load d_again "d.safetensors"
evaluate d_again on g.test""",
    # Convolution with k-winners per location, a checkpoint written during training.
    """model c {
  input 8x8x1
  conv2d 8 3x3 relu
  kwta 3
  maxpool 2
  flatten
  dense 10 softmax
}
train c on g.train epochs 3 batch 64 optimizer adam validate g.test checkpoint "c_best.safetensors"
save c "c.safetensors"
load c_best "c_best.safetensors"
evaluate c_best on g.test""",
    # Recurrent layers.
    """model r {
  input 10x1
  lstm 16 tanh
  dense 4 softmax
}
model q {
  input 10x1
  gru 12 tanh
  kwta 4
  dense 4 softmax
}
train r on w.train epochs 3 batch 64
train q on w.train epochs 3 batch 48 optimizer adam
save r "r.safetensors"
save q "q.safetensors\"""",
    # Batch normalisation: steps that are not split.
    """model b {
  input 8x8x1
  conv2d 4 3x3 relu
  batchnorm
  flatten
  dense 10 softmax
}
train b on g.train epochs 2 batch 64
save b "b.safetensors"
predict b on g.test first 3""",
]
SAVED = ["d.safetensors", "c_best.safetensors", "c.safetensors", "r.safetensors", "q.safetensors", "b.safetensors"]


def mpirun(*args, timeout=180):
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    return subprocess.run([MPIRUN, *root, "--oversubscribe", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def outputs(path):
    return [c.get("outputs") for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]


# What only a run on several ranks says: how many ranks trained.
RANKS_SAID = [(re.compile(r"training on 2 ranks × \d+ thread\(s\)"), "training")]


def as_one_process(value):
    """The outputs of a run on 2 ranks with what only it says taken out."""
    if isinstance(value, str):
        for pattern, replacement in RANKS_SAID:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, list):
        return [as_one_process(v) for v in value]
    if isinstance(value, dict):
        return {k: as_one_process(v) for k, v in value.items()}
    return value


def run_both(tmp_path, cells):
    """The notebook run by one process in one/ and by two ranks in two/."""
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        write_notebook(folder / "nb.ipynb", cells)
    single = subprocess.run([LOOM, "run", one / "nb.ipynb", "-o", one / "out.ipynb", "-q"], capture_output=True,
                            text=True, timeout=180)
    ranks = mpirun("-np", 2, LOOM, "run", two / "nb.ipynb", "-o", two / "out.ipynb")
    return one, two, single, ranks


def test_two_ranks_train_and_save_what_one_process_does_bit_for_bit(tmp_path):
    one, two, single, ranks = run_both(tmp_path, CELLS)
    assert single.returncode == 0, single.stderr
    assert ranks.returncode == 0, ranks.stderr + ranks.stdout
    for name in SAVED:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    # The outputs (losses, accuracies, predictions, tables), durations aside.
    assert mask(as_one_process(outputs(two / "out.ipynb"))) == mask(outputs(one / "out.ipynb"))
    assert "training on 2 ranks × " in json.dumps(outputs(two / "out.ipynb"), ensure_ascii=False)
    assert not any(o.get("output_type") == "error" for cell in outputs(two / "out.ipynb") for o in cell)


def test_rank_zero_alone_writes_the_notebook_files_and_checkpoints_and_speaks(tmp_path):
    # Each rank in a folder of its own, told to write a notebook of its own:
    # what rank 1 would write shows up in there/.
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    book = write_notebook(tmp_path / "nb.ipynb", CELLS[:1] + [
        "model m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}\n"
        "train m on g.train epochs 2 batch 64 validate g.test checkpoint \"best.safetensors\"\nsave m \"m.safetensors\""])
    result = mpirun("-np", 1, LOOM, "run", book, "--cwd", here, "-o", here / "out.ipynb", "--show-outputs", ":",
                    "-np", 1, LOOM, "run", book, "--cwd", there, "-o", there / "out.ipynb", "--show-outputs")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in here.iterdir()) == ["best.safetensors", "m.safetensors", "out.ipynb"]
    assert list(there.iterdir()) == []
    assert result.stderr.count("loom run: wrote") == 1
    assert result.stderr.count("loom run: cell 2 of 2 done") == 1
    assert result.stdout.count("In [2]:") == 1


def test_ranks_that_fail_alike_record_the_error_as_one_process_does(tmp_path):
    cells = CELLS[:1] + ["model m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}\ntrain m on g.train epochs 1 batch 64 "
                         "validation g.test", "save m \"never.safetensors\""]
    one, two, single, ranks = run_both(tmp_path, cells)
    assert single.returncode == ranks.returncode == 1
    assert as_one_process(outputs(two / "out.ipynb")) == outputs(one / "out.ipynb")
    assert outputs(two / "out.ipynb")[1][-1]["ename"] == "SyntaxError"
    assert not (two / "never.safetensors").exists()
    assert "MPI_ABORT" not in ranks.stderr


def folders(tmp_path):
    """here/ holds a saved model d.safetensors; there/ is empty."""
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    write_notebook(here / "seed.ipynb", CELLS[:2])
    subprocess.run([LOOM, "run", here / "seed.ipynb", "-q"], check=True, capture_output=True, timeout=120)
    (here / "seed.ipynb").unlink()
    return here, there


def test_a_rank_that_fails_alone_stops_every_rank_within_seconds(tmp_path):
    # Rank 0 finds the saved model in its folder and trains; rank 1 runs in a
    # folder without it, so it fails while rank 0 waits for its shards.
    here, there = folders(tmp_path)
    book = write_notebook(tmp_path / "nb.ipynb", ["seed 1\ndata g = glyphs n 4000 size 8",
                                                  "load d \"d.safetensors\"\ntrain d on g epochs 200 batch 64"])
    started = time.monotonic()
    result = mpirun("-np", 1, LOOM, "run", book, "--cwd", here, "-o", here / "out.ipynb", "-q", ":",
                    "-np", 1, LOOM, "run", book, "--cwd", there, "-o", there / "out.ipynb", "-q", timeout=60)
    assert time.monotonic() - started < 15
    assert result.returncode != 0
    assert "loom: rank 1 failed: IOError: cannot read d.safetensors" in result.stderr
    assert "stopping every rank" in result.stderr
    assert not (here / "out.ipynb").exists() and not (there / "out.ipynb").exists()


def test_a_rank_that_disagrees_at_the_end_of_a_cell_stops_the_job(tmp_path):
    here, there = folders(tmp_path)
    book = write_notebook(tmp_path / "nb.ipynb", ["load d \"d.safetensors\"", "x = 1"])
    result = mpirun("-np", 1, LOOM, "run", book, "--cwd", there, "-o", there / "out.ipynb", "-q", ":",
                    "-np", 1, LOOM, "run", book, "--cwd", here, "-o", here / "out.ipynb", "-q", timeout=60)
    assert result.returncode != 0
    assert "the ranks ended the cell differently" in result.stderr
    assert not (there / "out.ipynb").exists()


# The kernel under mpirun (`loom install --mpi 2`), driven by jupyter_client
# as a notebook server drives it: rank 0 speaks ZeroMQ and hands each cell to
# rank 1.

KERNEL_CELLS = ["set progress off\nset threads 1"] + CELLS[:3] + [
    "model s {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}\nfor rate in [0.01, 0.1] {\n"
    "  train s on g.train epochs 1 batch 32 optimizer sgd rate rate\n  evaluate s on g.test\n}",
    "weights d", "nothing_here"]


@pytest.fixture(scope="module")
def mpi_kernelspec():
    home = Path(os.environ["JUPYTER_PATH"]).parents[1]
    result = subprocess.run([LOOM, "install", "--prefix", str(home), "--mpi", "2"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "(2 ranks under mpirun)" in result.stdout
    return "loom-mpi-2"


@pytest.fixture
def start_kernel(tmp_path):
    """Starts kernels by kernelspec name in tmp_path; shuts them down after."""
    started = []

    def start(name):
        from jupyter_client import KernelManager
        manager = KernelManager(kernel_name=name)
        manager.start_kernel(cwd=str(tmp_path))
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        started.append((manager, client))
        return manager, client

    yield start
    for manager, client in started:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


def run_cell(client, code, timeout=120):
    """The reply and what the cell showed: streams, results and errors as text."""
    msg_id = client.execute(code)
    reply = client.get_shell_msg(timeout=timeout)
    assert reply["parent_header"]["msg_id"] == msg_id
    shown = []
    for msg in collect_iopub(client, msg_id, timeout=timeout):
        content = msg["content"]
        if msg["msg_type"] == "stream":
            shown.append(content["text"])
        elif msg["msg_type"] in ("execute_result", "display_data", "update_display_data"):
            shown.append(content["data"].get("text/plain", ""))
        elif msg["msg_type"] == "error":
            shown.append(content["ename"] + ": " + content["evalue"])
    return reply, mask(shown)


def kernel_ranks(manager):
    """The pids of the `loom kernel` processes mpirun started for this kernel."""
    mpirun = psutil.Process(manager.provisioner.process.pid)
    return [p for p in mpirun.children(recursive=True) if "kernel" in p.cmdline()]


def test_a_kernel_on_two_ranks_shows_what_one_process_shows(mpi_kernelspec, start_kernel, tmp_path):
    _, alone = start_kernel("loom")
    manager, ranks = start_kernel(mpi_kernelspec)
    assert len(kernel_ranks(manager)) == 2
    info = ranks.kernel_info(reply=True, timeout=10)["content"]
    assert "Running on 2 ranks" in info["banner"]
    for cell in KERNEL_CELLS:
        one, shown_alone = run_cell(alone, cell)
        two, shown_ranks = run_cell(ranks, cell)
        assert two["content"]["status"] == one["content"]["status"], cell
        assert mask(as_one_process(shown_ranks)) == shown_alone, cell
    assert one["content"]["ename"] == "NameError"
    # Completion and inspection answer from rank 0 alone, as in one process.
    ranks.complete("tra", 3)
    alone.complete("tra", 3)
    assert ranks.get_shell_msg(timeout=10)["content"]["matches"] == alone.get_shell_msg(timeout=10)["content"]["matches"]


def test_an_interrupt_stops_training_on_every_rank_and_the_kernel_goes_on(mpi_kernelspec, start_kernel):
    manager, client = start_kernel(mpi_kernelspec)
    reply, _ = run_cell(client, "set threads 1\n" + SMALL_MODEL)
    assert reply["content"]["status"] == "ok"
    msg_id = client.execute("train m on g epochs 100000 batch 64")
    time.sleep(1.5)
    started = time.monotonic()
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=10)
    assert time.monotonic() - started < 3
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "Interrupted", reply["content"]
    # Both ranks stopped at the same batch: the next cells train and agree.
    reply, shown = run_cell(client, "train m on g epochs 1 batch 64\nevaluate m on g")
    assert reply["content"]["status"] == "ok", shown
    assert len(kernel_ranks(manager)) == 2


def test_shutdown_ends_every_rank_and_mpirun(mpi_kernelspec, start_kernel):
    manager, client = start_kernel(mpi_kernelspec)
    run_cell(client, "x = 1")
    processes = [psutil.Process(manager.provisioner.process.pid)] + kernel_ranks(manager)
    assert len(processes) == 3
    started = time.monotonic()
    manager.shutdown_kernel()
    gone, alive = psutil.wait_procs(processes, timeout=10)
    assert alive == []
    assert time.monotonic() - started < 10


def test_a_restart_replaces_every_rank(mpi_kernelspec, start_kernel):
    manager, client = start_kernel(mpi_kernelspec)
    run_cell(client, "x = 1")
    old = [psutil.Process(manager.provisioner.process.pid)] + kernel_ranks(manager)
    manager.restart_kernel()
    client.wait_for_ready(timeout=60)
    gone, alive = psutil.wait_procs(old, timeout=10)
    assert alive == []
    assert len(kernel_ranks(manager)) == 2
    reply, shown = run_cell(client, "x")
    assert reply["content"]["ename"] == "NameError"
    reply, shown = run_cell(client, "y = 2\ny")
    assert reply["content"]["status"] == "ok" and shown == ["2"]


def test_a_killed_rank_gives_the_running_cell_an_error_within_seconds(mpi_kernelspec, start_kernel):
    manager, client = start_kernel(mpi_kernelspec)
    run_cell(client, "set threads 1\n" + SMALL_MODEL)
    msg_id = client.execute("train m on g epochs 100000 batch 64")
    time.sleep(1.5)
    rank_one = [p for p in kernel_ranks(manager) if p.environ().get("OMPI_COMM_WORLD_RANK") == "1"]
    assert len(rank_one) == 1
    started = time.monotonic()
    rank_one[0].kill()
    reply = client.get_shell_msg(timeout=10)
    assert time.monotonic() - started < 5
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "RankStopped"
    assert "when one rank dies" in reply["content"]["evalue"]
    # The whole job ends: no rank is left behind.
    assert wait_for(lambda: not manager.is_alive(), timeout=10)


def test_install_says_which_kernelspec_it_replaces(tmp_path):
    def install(*args):
        result = subprocess.run([LOOM, "install", "--prefix", str(tmp_path), *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "Replacing" not in install()
    assert "Replacing" not in install()
    replaced = install("--mpi", "2", "--name", "loom")
    assert f"Replacing kernelspec loom in {tmp_path}/share/jupyter/kernels/loom, which started: " in replaced
    assert " kernel -f {connection_file}" in replaced
    spec = json.loads((tmp_path / "share/jupyter/kernels/loom/kernel.json").read_text())
    assert spec["argv"][1:3] == ["-np", "2"] and spec["argv"][0].endswith("mpirun")
    assert spec["interrupt_mode"] == "message"
    assert "mpirun -np 2" in install()


# A sweep of four configurations: each iteration builds, trains and
# evaluates its own model, prints and records a row.
SWEEP = """for k in 2 4 8 16 parallel {
  model w {
    input 8x8x1
    flatten
    dense 32 relu
    kwta k
    dense 10 softmax
  }
  train w on g.train epochs 2 batch 32
  r = evaluate w on g.test
  print "k" k "accuracy" r.accuracy
  record runs k=k acc=r.accuracy loss=r.loss
}"""
SWEEP_CELLS = ["set progress off\nset threads 1\nseed 3\ndata g = glyphs n 300 size 8\nsplit g train 0.8", SWEEP,
               "runs\nsave runs \"runs.csv\"", "list"]


def test_a_parallel_sweep_on_two_ranks_gives_the_table_and_outputs_of_one_process(tmp_path):
    one, two, single, ranks = run_both(tmp_path, SWEEP_CELLS)
    assert single.returncode == 0, single.stderr
    assert ranks.returncode == 0, ranks.stderr + ranks.stdout
    table = (one / "runs.csv").read_text()
    assert table.splitlines()[0] == "k,acc,loss" and len(table.splitlines()) == 5
    assert [line.split(",")[0] for line in table.splitlines()[1:]] == ["2", "4", "8", "16"]
    assert (two / "runs.csv").read_text() == table
    printed = [o["text"] for o in outputs(two / "out.ipynb")[1] if o.get("output_type") == "stream"]
    assert [line.split()[1] for line in "".join(printed).splitlines()] == ["2", "4", "8", "16"]
    # `list` (the last cell) says how many ranks hold the names.
    assert mask(as_one_process(outputs(two / "out.ipynb")[:3])) == mask(outputs(one / "out.ipynb")[:3])
    listing = json.dumps(outputs(two / "out.ipynb")[3], ensure_ascii=False)
    assert "held on each of 2 ranks (1 thread(s) each)" in listing
    # The iterations trained on a rank alone: their tables say nothing of ranks.
    assert "training on" not in json.dumps(outputs(two / "out.ipynb")[1], ensure_ascii=False)


def test_a_parallel_loop_gives_the_serial_loop_s_table_when_each_iteration_fixes_its_seed(tmp_path):
    serial = SWEEP.replace(" parallel {", " {").replace("  model w {", "  seed k\n  model w {")
    parallel = SWEEP.replace("  model w {", "  seed k\n  model w {")
    for name, sweep in (("serial", serial), ("parallel", parallel)):
        folder = tmp_path / name
        folder.mkdir()
        write_notebook(folder / "nb.ipynb", [SWEEP_CELLS[0], sweep, SWEEP_CELLS[2]])
        command = [LOOM, "run", folder / "nb.ipynb", "-q"]
        result = mpirun("-np", 2, *command) if name == "parallel" else subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "parallel" / "runs.csv").read_text() == (tmp_path / "serial" / "runs.csv").read_text()


def test_an_error_in_a_parallel_iteration_is_the_serial_loop_s_error(tmp_path):
    cells = [SWEEP_CELLS[0], "for k in 1 2 3 0 5 parallel {\n  record runs k=k inverse=1/k\n  print k\n}", "runs"]
    one, two, single, ranks = run_both(tmp_path, cells)
    assert single.returncode == ranks.returncode == 1
    assert as_one_process(outputs(two / "out.ipynb")) == outputs(one / "out.ipynb")
    error = outputs(two / "out.ipynb")[1][-1]
    assert error["ename"] == "ValueError" and "(in the iteration `k = 0`)" in error["evalue"]
    assert "".join(o["text"] for o in outputs(two / "out.ipynb")[1] if o["output_type"] == "stream") == "1\n2\n3\n"
