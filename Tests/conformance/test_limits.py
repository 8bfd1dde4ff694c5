"""Limits that hold whatever a peer sends: message sizes on every socket,
stdin that nobody asks for, and the threads `set threads` can get."""

import json
import time

import zmq

from conftest import RunningKernel, wait_for
from test_protocol import kernel_still_answers
from test_reliability import rss_kib

MIB = 1 << 20
LIMIT = 16 * MIB  # WireMessage.maximumBytes


def raw_socket(kernel, port_name):
    """A DEALER connected to one of the kernel's ports, holding no key."""
    info = json.load(open(kernel.connection_file))
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 1000)
    sock.connect(f"tcp://{info['ip']}:{info[port_name]}")
    return sock


def test_unread_stdin_frames_are_dropped_not_kept(tmp_path):
    kernel = RunningKernel(tmp_path)
    try:
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
    finally:
        kernel.stop()


def test_a_frame_over_the_limit_is_refused_on_every_socket(tmp_path):
    kernel = RunningKernel(tmp_path)
    try:
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
    finally:
        kernel.stop()


def test_a_message_whose_frames_add_up_past_the_limit_is_dropped(tmp_path):
    kernel = RunningKernel(tmp_path)
    try:
        sock = raw_socket(kernel, "shell_port")
        part = b"z" * (LIMIT // 2)
        sock.send_multipart([b"<IDS|MSG>", b"", b"{}", b"{}", b"{}", part, part, b"!"])
        assert wait_for(lambda: "over the limit of 16777216" in kernel.log_text(), timeout=10), kernel.log_text()
        sock.close()
        kernel_still_answers(kernel)
    finally:
        kernel.stop()
