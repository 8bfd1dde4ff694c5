"""Memory and delivery under clients that misbehave: a subscriber that never
reads, a client that floods the shell without reading its replies, a
shutdown while a cell prints, and stream output coalesced in order."""

import json
import time
from queue import Empty

import zmq
from jupyter_client import BlockingKernelClient

from conftest import RunningKernel, wait_for
from test_protocol import collect_iopub, execute, kernel_still_answers
from test_reliability import rss_kib

DIGITS = "0 1 2 3 4 5 6 7 8 9"


def nested_loop(depth, body):
    """`depth` nested loops of ten values each around `body`: 10^depth runs."""
    names = [f"i{k}" for k in range(depth)]
    return "\n".join([f"for {n} in {DIGITS} {{" for n in names] + [body] + ["}"] * depth)


def silent_subscriber(info):
    """A SUB socket that subscribes to everything and never reads."""
    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 1)
    sock.setsockopt(zmq.RCVBUF, 4096)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(f"tcp://{info['ip']}:{info['iopub_port']}")
    return sock


def drain_iopub(client):
    try:
        while True:
            client.get_iopub_msg(timeout=1)
    except Empty:
        pass


def test_prints_arrive_whole_in_order_and_in_few_messages(kernel):
    client = kernel.client
    _, messages = execute(client, 'print "start"\n' + nested_loop(4, 'print i0 i1 i2 i3') + '\nx = 1\nx')
    kinds = [m["msg_type"] for m in messages]
    streams = [m for m in messages if m["msg_type"] == "stream"]
    text = "".join(m["content"]["text"] for m in streams)
    expected = "start\n" + "".join(f"{a} {b} {c} {d}\n" for a in range(10) for b in range(10) for c in range(10)
                                   for d in range(10))
    assert text == expected
    assert len(streams) < 200, len(streams)  # 10,001 prints
    assert kinds.index("execute_result") > max(i for i, k in enumerate(kinds) if k == "stream")


def test_a_print_then_a_long_silence_shows_the_print_at_once(kernel):
    client = kernel.client
    msg_id = client.execute('print "before"\nsleep 3')
    started = time.time()
    while True:
        msg = client.get_iopub_msg(timeout=5)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            break
    assert time.time() - started < 1.5
    assert msg["content"]["text"] == "before\n"
    client.get_shell_msg(timeout=10)


def test_a_subscriber_that_never_reads_cannot_grow_the_kernel(tmp_path):
    kernel = RunningKernel(tmp_path)
    try:
        info = json.load(open(kernel.connection_file))
        silent = silent_subscriber(info)
        time.sleep(0.5)
        execute(kernel.client, "x = 1")
        baseline = rss_kib(kernel.process.pid)
        line = "y" * 40_000
        # 10,000 prints of 40 KB: 400 MB of stream text, read by nobody (the
        # test's own client does not read iopub during the cell either).
        msg_id = kernel.client.execute(f's = "{line}"\n' + nested_loop(4, "print s"))
        reply = kernel.client.get_shell_msg(timeout=120)
        assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
        peak = rss_kib(kernel.process.pid, "VmHWM")
        print(f"\nnever-reading subscriber, 400 MB printed: RSS {baseline // 1024} MiB before, "
              f"peak {peak // 1024} MiB")
        assert peak - baseline < 300 * 1024
        silent.close()
        kernel.client.stop_channels()
        kernel.client = BlockingKernelClient(connection_file=kernel.connection_file)
        kernel.client.load_connection_file()
        kernel.client.start_channels()
        assert wait_for(lambda: rss_kib(kernel.process.pid) - baseline < 64 * 1024, timeout=10), \
            f"RSS {rss_kib(kernel.process.pid) // 1024} MiB after the subscribers left"
        print(f"after they left: {rss_kib(kernel.process.pid) // 1024} MiB")
        kernel_still_answers(kernel)
    finally:
        kernel.stop()


def test_replies_a_flooding_client_does_not_read_are_dropped_and_logged(tmp_path):
    kernel = RunningKernel(tmp_path)
    try:
        info = json.load(open(kernel.connection_file))
        session = kernel.client.session
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.RCVHWM, 10)
        sock.setsockopt(zmq.RCVBUF, 4096)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        count = 12_000
        for i in range(count):
            session.send(sock, "kernel_info_request", {})
        # Let the kernel answer everything while nobody reads, then read.
        assert wait_for(lambda: "dropped a kernel_info_reply" in kernel.log_text(), timeout=60), kernel.log_text()
        time.sleep(2)
        received = 0
        while sock.poll(500):
            sock.recv_multipart()
            received += 1
        sock.close()
        drain_iopub(kernel.client)  # the flood's status messages (past 1,000 of them were dropped)
        kernel_still_answers(kernel)  # a reply gets through: the burst's count is logged
        log = kernel.log_text()
        counts = [int(n) for n in __import__("re").findall(r"shell: (\d+) repl(?:y|ies) dropped in all", log)]
        assert counts and received + sum(counts) == count, (received, counts, log[-2000:])
        assert log.count("dropped a kernel_info_reply") == 1
    finally:
        kernel.stop()


def test_shutdown_while_a_cell_prints_stops_the_cell(tmp_path):
    kernel = RunningKernel(tmp_path)
    try:
        client = kernel.client
        client.execute(nested_loop(6, "print i0 i1 i2 i3 i4 i5"))  # a million prints
        time.sleep(1)
        started = time.time()
        client.control_channel.send(client.session.msg("shutdown_request", {"restart": False}))
        assert kernel.process.wait(timeout=10) == 0
        assert time.time() - started < 3, "the cell did not stop"
        log = kernel.log_text()
        assert "did not stop" not in log and "send" not in log, log[-2000:]
    finally:
        kernel.stop()
