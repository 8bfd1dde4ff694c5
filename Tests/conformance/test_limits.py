"""Limits that hold whatever a peer sends: message sizes on every socket,
stdin that nobody asks for, and the threads `set threads` can get."""

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time

import nbformat
import zmq

from conftest import LOOM, wait_for
from test_protocol import kernel_still_answers
from test_reliability import rss_kib

MIB = 1 << 20
LIMIT = 16 * MIB  # WireMessage.maximumBytes
FRAMES = 1024  # WireMessage.maximumFrames


def raw_socket(kernel, port_name):
    """A DEALER connected to one of the kernel's ports, holding no key."""
    info = json.load(open(kernel.connection_file))
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 1000)
    sock.connect(f"tcp://{info['ip']}:{info[port_name]}")
    return sock


def test_unread_stdin_frames_are_dropped_not_kept(kernel):
    baseline = rss_kib(kernel.process.pid)
    sock = raw_socket(kernel, "stdin_port")
    frame = b"x" * (10 * MIB)
    for _ in range(12):
        sock.send(frame)
    sock.close()  # waits (linger) until everything is sent
    assert wait_for(lambda: "stdin: dropped 1 message(s)" in kernel.log_text(), timeout=10), kernel.log_text()
    time.sleep(1)
    grown = rss_kib(kernel.process.pid) - baseline
    peak = rss_kib(kernel.process.pid, "VmHWM") - baseline
    print(f"\n120 MB sent on stdin: the kernel grew {grown // 1024} MiB (peak {peak // 1024} MiB)")
    assert grown < 40 * 1024, f"the kernel kept {grown // 1024} MiB of unread stdin"
    kernel_still_answers(kernel)


def test_a_frame_over_the_limit_is_refused_on_every_socket(kernel):
    for port in ("shell_port", "control_port", "stdin_port"):
        sock = raw_socket(kernel, port)
        sock.send(b"y" * (LIMIT + 1))  # ZeroMQ disconnects this peer before storing it
        sock.close()
    sock = raw_socket(kernel, "shell_port")
    sock.send(b"small and malformed")
    assert wait_for(lambda: "dropped a message on shell" in kernel.log_text(), timeout=10)
    time.sleep(0.5)
    log = kernel.log_text()
    assert log.count("dropped a message on shell") == 1, log  # the small one only
    assert "stdin: dropped" not in log, log
    sock.close()
    kernel_still_answers(kernel)


def test_a_message_whose_frames_add_up_past_the_limit_is_dropped(kernel):
    sock = raw_socket(kernel, "shell_port")
    part = b"z" * (LIMIT // 2)
    sock.send_multipart([b"<IDS|MSG>", b"", b"{}", b"{}", b"{}", part, part, b"!"])
    assert wait_for(lambda: "over the limit of 1024 frames or 16777216 bytes; dropped" in kernel.log_text(),
                    timeout=10), kernel.log_text()
    sock.close()
    kernel_still_answers(kernel)


def test_a_message_of_too_many_frames_is_dropped_and_the_kernel_serves_on(kernel):
    sock = raw_socket(kernel, "shell_port")
    baseline = rss_kib(kernel.process.pid)
    frames = [b"<IDS|MSG>", b"", b"{}", b"{}", b"{}", b"{}"] + [b"b" * 40] * 300_000
    sock.send_multipart(frames)
    expected = f"shell: received a message of {1 + len(frames)} frames and "  # with the identity ROUTER adds
    assert wait_for(lambda: expected in kernel.log_text(), timeout=20), kernel.log_text()[-2000:]
    assert "over the limit of 1024 frames" in kernel.log_text()
    grown = rss_kib(kernel.process.pid) - baseline
    print(f"\n300,000 frames of 40 bytes sent: the kernel grew {grown // 1024} MiB")
    assert "dropped a message on shell" not in kernel.log_text()  # refused before it was parsed
    sock.close()
    kernel_still_answers(kernel)


def test_a_signed_request_with_many_buffers_under_the_limit_is_answered(kernel):
    client = kernel.client
    content = {"code": "2 + 3", "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False}
    message = client.session.msg("execute_request", content)
    # Identity, delimiter, signature and four frames leave room for the rest as buffers.
    client.session.send(client.shell_channel.socket, message, buffers=[b"x"] * (FRAMES - 7))
    reply = client.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == message["header"]["msg_id"]
    assert reply["content"]["status"] == "ok"


def loom_run(*args, timeout=30, **kw):
    return subprocess.run([LOOM, "run", *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


def cap_address_space(mib):
    """A `preexec_fn` capping the child's address space, as `ulimit -v` does."""
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (mib * MIB, mib * MIB))


def test_loom_run_refuses_fifos_and_devices_before_reading(tmp_path):
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        result = loom_run(path, timeout=10, preexec_fn=cap_address_space(2048))
        assert result.returncode == 2, (path, result.returncode, result.stderr[-500:])
        assert "not a regular file" in result.stderr, result.stderr


def test_loom_run_refuses_a_notebook_over_the_size_limit(tmp_path):
    huge = tmp_path / "huge.ipynb"
    with open(huge, "wb") as f:
        f.truncate(513 * MIB)  # sparse: no disk used
    result = loom_run(huge, preexec_fn=cap_address_space(2048))
    assert result.returncode == 2, result.stderr[-500:]
    assert "513 MiB, larger than the 512 MiB a notebook may be" in result.stderr


def test_loom_run_records_many_prints_as_one_output_in_little_memory(tmp_path):
    digits = "0 1 2 3 4 5 6 7 8 9"
    loops = "".join(f"for i{k} in {digits} {{\n" for k in range(5)) + "for k in 0 1 {\nprint i4\n}\n" + "}\n" * 5
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(loops), nbformat.v4.new_code_cell('print "after"')]
    source = tmp_path / "prints.ipynb"
    nbformat.write(nb, str(source))
    out = tmp_path / "out.ipynb"
    started = time.time()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", LOOM, "run", str(source), "-o", str(out), "-q"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-500:]
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    print(f"\n200,000 prints: {time.time() - started:.1f} s, peak {peak_kib // 1024} MiB, "
          f"notebook {out.stat().st_size // 1024} KiB")
    ran = nbformat.read(str(out), as_version=4)
    first = ran.cells[0].outputs
    assert len(first) == 1 and first[0].output_type == "stream"
    assert first[0].text == "".join(f"{d}\n{d}\n" for d in range(10)) * 10_000
    assert ran.cells[1].outputs[0].text == "after\n"
    assert peak_kib < 100 * 1024


TRAIN_ON_MANY_THREADS = """set threads {threads}
data g = glyphs n 300 size 12
model m {{
  input 12x12x1
  flatten
  dense 32 relu
  dense 10 softmax
}}
train m on g epochs 1 batch 64
print "trained"
"""


def loom_eval(source, preexec_fn, timeout=30):
    try:
        return subprocess.run([LOOM, "eval", "-"], input=source, capture_output=True, text=True, timeout=timeout,
                              preexec_fn=preexec_fn, cwd="/")
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"still running after {timeout} s: {(e.stderr or b'')[-500:]!r}")


def threads_of(uid):
    """Every thread of every process of `uid`: what `ulimit -u` counts."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return count


def few_processes(more=10):
    """A `preexec_fn` leaving room for `more` threads under `ulimit -u`
    (which does not bind root: as root, run as nobody)."""
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    limit = threads_of(uid) + more

    def limit_processes():
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
    return limit_processes


def test_threads_past_a_process_limit_fall_back_to_those_started():
    result = loom_eval(TRAIN_ON_MANY_THREADS.format(threads=64), few_processes())
    assert result.returncode == 0, result.stderr[-1000:]
    assert "trained" in result.stdout
    assert "threads could be started" in result.stderr and "`ulimit -u`" in result.stderr, result.stderr


def test_threads_past_an_address_space_cap_fall_back_to_those_started():
    result = loom_eval(TRAIN_ON_MANY_THREADS.format(threads=256), cap_address_space(2048))
    assert result.returncode == 0, result.stderr[-1000:]
    assert "trained" in result.stdout
    assert "threads could be started" in result.stderr, result.stderr


def test_a_kernel_without_the_threads_it_needs_says_so_and_exits():
    from jupyter_client.connect import write_connection_file

    folder = tempfile.mkdtemp(prefix="loom-limits-")
    try:
        os.chmod(folder, 0o755)
        connection = os.path.join(folder, "kernel.json")
        write_connection_file(connection, key=b"k", ip="127.0.0.1")
        os.chmod(connection, 0o644)
        # Room for the main thread and OpenBLAS's first one, not for ZeroMQ's.
        result = subprocess.run([LOOM, "kernel", "-f", connection], capture_output=True, text=True, timeout=10,
                                preexec_fn=few_processes(more=3), cwd="/")
        assert result.returncode == 2, result.stderr[-1000:]
        assert "the kernel needs 5 threads: cannot start a thread" in result.stderr, result.stderr
    finally:
        shutil.rmtree(folder)
