"""Reliability through the real kernel: interrupts during training, the
heartbeat and control channel under load, two clients on one kernel, and a
soak of many executes with memory measured (`make soak` runs the long form)."""

import json
import os
import signal
import time

import zmq
from jupyter_client import BlockingKernelClient

from conftest import SMALL_MODEL as SETUP
from test_protocol import collect_iopub, execute, kernel_still_answers



def rss_kib(pid, field="VmRSS"):
    """The process's resident memory in KiB (`VmHWM`: its peak)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field}")


def test_ten_interrupts_during_training_each_return_to_idle_quickly(kernel):
    client = kernel.client
    reply, _ = execute(client, SETUP)
    assert reply["content"]["status"] == "ok"
    for i in range(10):
        msg_id = client.execute("train m on g epochs 100000 batch 4")
        time.sleep(0.3)
        started = time.time()
        if i % 2:
            client.control_channel.send(client.session.msg("interrupt_request", {}))
            assert client.get_control_msg(timeout=5)["msg_type"] == "interrupt_reply"
        else:
            kernel.process.send_signal(signal.SIGINT)
        reply = client.get_shell_msg(timeout=5)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["ename"] == "Interrupted"
        assert "keeps the weights of its last finished step" in reply["content"]["evalue"]
        states = [m["content"]["execution_state"] for m in collect_iopub(client, msg_id) if m["msg_type"] == "status"]
        assert states[-1] == "idle"
        assert time.time() - started < 1.0, f"interrupt {i} took {time.time() - started:.2f} s"
    reply, _ = execute(client, "evaluate m on g")
    assert reply["content"]["status"] == "ok"


def test_heartbeat_and_control_answer_during_training(kernel):
    client = kernel.client
    execute(client, SETUP)
    msg_id = client.execute("train m on g epochs 100000 batch 4")
    time.sleep(0.3)
    info = json.load(open(kernel.connection_file))
    ping = zmq.Context.instance().socket(zmq.REQ)
    ping.setsockopt(zmq.LINGER, 0)
    ping.connect(f"tcp://{info['ip']}:{info['hb_port']}")
    for _ in range(5):
        started = time.time()
        ping.send(b"ping")
        assert ping.poll(1000) and ping.recv() == b"ping"
        client.control_channel.send(client.session.msg("kernel_info_request", {}))
        assert client.get_control_msg(timeout=1)["msg_type"] == "kernel_info_reply"
        assert time.time() - started < 1
    client.control_channel.send(client.session.msg("interrupt_request", {}))
    client.get_control_msg(timeout=5)
    assert client.get_shell_msg(timeout=5)["parent_header"]["msg_id"] == msg_id


def test_two_clients_see_the_outputs_and_get_their_own_replies(kernel):
    other = BlockingKernelClient(connection_file=kernel.connection_file)
    other.load_connection_file()
    other.start_channels()
    try:
        other.wait_for_ready(timeout=10)
        # Both clients' iopub subscriptions are live once each has seen a cell's idle.
        probe = other.execute("1")
        other.get_shell_msg(timeout=5)
        collect_iopub(other, probe)
        collect_iopub(kernel.client, probe)
        first = kernel.client.execute('print "from the first"')
        second = other.execute('print "from the second"')
        assert kernel.client.get_shell_msg(timeout=5)["parent_header"]["msg_id"] == first
        assert other.get_shell_msg(timeout=5)["parent_header"]["msg_id"] == second
        # The kernel may run either request first: read each client's iopub
        # until both requests are idle, keeping the streams of each.
        for client in (kernel.client, other):
            streams, idle = {}, set()
            while idle != {first, second}:
                msg = client.get_iopub_msg(timeout=10)
                parent = msg["parent_header"].get("msg_id")
                if msg["msg_type"] == "stream":
                    streams[parent] = msg["content"]["text"]
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle" and parent in (first, second):
                    idle.add(parent)
            assert streams == {first: "from the first\n", second: "from the second\n"}
    finally:
        other.stop_channels()


def test_soak_memory_stays_flat(kernel):
    count = int(os.environ.get("LOOM_SOAK_EXECUTES", "1000"))
    client = kernel.client
    for i in range(50):
        execute(client, f"x = {i} * 2\nx")
    before = rss_kib(kernel.process.pid)
    for i in range(count):
        msg_id = client.execute(f'x = {i} * 2\nprint "n" x\nx' if i % 2 else "help seed")
        client.get_shell_msg(timeout=10)
        collect_iopub(client, msg_id)
    after = rss_kib(kernel.process.pid)
    print(f"\nsoak: {count} executes, RSS {before} KiB -> {after} KiB ({(after - before) / 1024:+.1f} MiB)")
    assert after - before < 10 * 1024
    kernel_still_answers(kernel)


def test_sockets_listen_only_on_the_connection_files_address(kernel):
    info = json.load(open(kernel.connection_file))
    ports = {info[k] for k in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")}
    listening = set()
    for line in open("/proc/net/tcp").readlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.split(":")
        if state == "0A" and int(port, 16) in ports:  # 0A: LISTEN
            listening.add((address, int(port, 16)))
    assert {p for _, p in listening} == ports
    assert all(address == "0100007F" for address, _ in listening)  # 127.0.0.1
