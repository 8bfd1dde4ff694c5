"""The kernel's wire protocol, driven by jupyter_client and raw ZeroMQ sockets:
what the spec asks of replies and broadcasts, and that bad messages are
dropped and logged while the kernel keeps serving."""

import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
import zmq
from jupyter_client.session import Session

from conftest import LOOM, RunningKernel, wait_for

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def collect_iopub(client, parent_id, timeout=10):
    """The iopub messages of one request, up to its idle status."""
    messages = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != parent_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
    raise AssertionError("no idle status")


def execute(client, code, **kwargs):
    msg_id = client.execute(code, **kwargs)
    reply = client.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply, collect_iopub(client, msg_id)


def raw_shell(kernel):
    """A DEALER socket on the kernel's shell port, and the connection info."""
    info = json.load(open(kernel.connection_file))
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://{info['ip']}:{info['shell_port']}")
    return sock, info


def kernel_still_answers(kernel):
    kernel.client.kernel_info()
    reply = kernel.client.get_shell_msg(timeout=5)
    assert reply["msg_type"] == "kernel_info_reply"
    reply, _ = execute(kernel.client, "2 + 3")
    assert reply["content"]["status"] == "ok"


def test_kernel_info_describes_the_language(kernel):
    msg_id = kernel.client.kernel_info()
    reply = kernel.client.get_shell_msg(timeout=5)
    content = reply["content"]
    assert content["status"] == "ok"
    assert content["protocol_version"].startswith("5.")
    info = content["language_info"]
    assert info["name"] == "loom"
    assert info["file_extension"] == ".loom"
    for key in ("version", "mimetype", "pygments_lexer", "codemirror_mode", "nbconvert_exporter"):
        assert info[key]
    assert "BLAS core" in content["banner"]
    assert content["help_links"] and content["help_links"][0]["url"]
    statuses = [m["content"]["execution_state"] for m in collect_iopub(kernel.client, msg_id) if m["msg_type"] == "status"]
    assert statuses == ["busy", "idle"]


def test_headers_have_microsecond_utc_dates_and_echo_the_parent(kernel):
    sock, info = raw_shell(kernel)
    session = Session(key=info["key"].encode())
    request = session.msg("kernel_info_request", {})
    session.send(sock, request)
    assert sock.poll(5000)
    frames = sock.recv_multipart()
    delimiter = frames.index(b"<IDS|MSG>")
    header = json.loads(frames[delimiter + 2])
    parent = json.loads(frames[delimiter + 3])
    assert DATE.match(header["date"]), header["date"]
    assert header["msg_id"] == header["msg_id"].lower()
    assert parent["msg_id"] == request["header"]["msg_id"]
    assert parent["session"] == request["header"]["session"]
    assert frames[delimiter + 4] == b"{}"  # empty metadata is {}


def test_execute_counts_only_stored_non_silent_cells(kernel):
    reply, iopub = execute(kernel.client, "1 + 1")
    first = reply["content"]["execution_count"]
    assert [m["msg_type"] for m in iopub] == ["status", "execute_input", "execute_result", "status"]
    assert iopub[2]["content"]["data"]["text/plain"] == "2"
    assert iopub[2]["content"]["execution_count"] == first

    reply, iopub = execute(kernel.client, 'print "quiet"', silent=True)
    assert reply["content"]["execution_count"] == first
    assert [m["msg_type"] for m in iopub] == ["status", "status"]

    reply, _ = execute(kernel.client, "2 + 2", store_history=False)
    assert reply["content"]["execution_count"] == first
    reply, _ = execute(kernel.client, "3 + 3")
    assert reply["content"]["execution_count"] == first + 1


def test_error_reply_has_name_value_and_caret_traceback(kernel):
    reply, iopub = execute(kernel.client, "x = 1\ntrian cnn")
    content = reply["content"]
    assert content["status"] == "error"
    assert content["ename"] == "SyntaxError"
    assert "did you mean `train`" in content["evalue"]
    text = "\n".join(content["traceback"])
    assert "line 2, column 1" in text
    assert "^^^^^" in text
    errors = [m for m in iopub if m["msg_type"] == "error"]
    assert len(errors) == 1 and errors[0]["content"]["ename"] == "SyntaxError"


def test_failed_statement_keeps_earlier_names(kernel):
    reply, _ = execute(kernel.client, "a = 4\nb = a / 0\nc = 1")
    assert reply["content"]["ename"] == "ValueError"
    reply, iopub = execute(kernel.client, "a")
    results = [m for m in iopub if m["msg_type"] == "execute_result"]
    assert results[0]["content"]["data"]["text/plain"] == "4"
    reply, _ = execute(kernel.client, "c")
    assert reply["content"]["ename"] == "NameError"


def test_stop_on_error_aborts_queued_executes(kernel):
    client = kernel.client
    ids = [client.execute("sleep 0.3\nnope"), client.execute("print 1"), client.execute("print 2")]
    replies = {}
    while len(replies) < 3:
        reply = client.get_shell_msg(timeout=10)
        replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
    assert [replies[i] for i in ids] == ["error", "aborted", "aborted"]
    reply, _ = execute(client, "print 3")
    assert reply["content"]["status"] == "ok"


def test_stop_on_error_false_runs_the_next_cell(kernel):
    client = kernel.client
    ids = [client.execute("sleep 0.2\nnope", stop_on_error=False), client.execute("print 1")]
    replies = {}
    while len(replies) < 2:
        reply = client.get_shell_msg(timeout=10)
        replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
    assert [replies[i] for i in ids] == ["error", "ok"]


def test_user_expressions_are_loom_expressions(kernel):
    msg_id = kernel.client.execute("n = 6", user_expressions={"double": "n * 2", "bad": "m + 1"})
    reply = kernel.client.get_shell_msg(timeout=5)
    expressions = reply["content"]["user_expressions"]
    assert expressions["double"]["status"] == "ok"
    assert expressions["double"]["data"]["text/plain"] == "12"
    assert expressions["bad"]["status"] == "error"
    assert expressions["bad"]["ename"] == "NameError"
    collect_iopub(kernel.client, msg_id)


def test_is_complete_gives_an_indent_inside_a_model_block(kernel):
    kernel.client.is_complete("model m {\n  input 4")
    reply = kernel.client.get_shell_msg(timeout=5)
    assert reply["content"] == {"status": "incomplete", "indent": "  "}


def test_completion_positions_count_code_points(kernel):
    code = 'print "é→"\nset wi'
    kernel.client.complete(code, len(code))
    reply = kernel.client.get_shell_msg(timeout=5)["content"]
    assert reply["matches"] == ["width"]
    assert reply["cursor_end"] == len(code)
    assert reply["cursor_start"] == len(code) - 2


def test_inspect_shows_signature_and_example(kernel):
    code = "train cnn on digits.train"
    kernel.client.inspect(code, 2)
    reply = kernel.client.get_shell_msg(timeout=5)["content"]
    assert reply["found"] is True
    text = reply["data"]["text/plain"]
    assert text.startswith("train NAME on DATA")
    assert "Example:" in text
    kernel.client.inspect("zzz", 1)
    assert kernel.client.get_shell_msg(timeout=5)["content"]["found"] is False


def test_comm_info_and_unknown_comm_targets_are_closed(kernel):
    kernel.client.comm_info()
    reply = kernel.client.get_shell_msg(timeout=5)
    assert reply["content"] == {"status": "ok", "comms": {}}
    msg = kernel.client.session.msg("comm_open", {"comm_id": "c1", "target_name": "nothing", "data": {}})
    kernel.client.shell_channel.send(msg)
    closes = [m for m in collect_iopub(kernel.client, msg["header"]["msg_id"]) if m["msg_type"] == "comm_close"]
    assert closes and closes[0]["content"]["comm_id"] == "c1"


def test_display_and_clear_output_messages(kernel):
    reply, iopub = execute(kernel.client, "help\nclear\nhelp seed")
    kinds = [m["msg_type"] for m in iopub]
    assert kinds == ["status", "execute_input", "display_data", "clear_output", "display_data", "status"]
    data = iopub[2]["content"]["data"]
    assert {"text/plain", "text/html"} <= set(data)
    assert "<table" in data["text/html"]


def test_wrongly_signed_message_is_dropped_and_logged(kernel):
    sock, info = raw_shell(kernel)
    bad = Session(key=b"not-the-key")
    bad.send(sock, bad.msg("execute_request", {"code": "print 666", "silent": False}))
    assert not sock.poll(700)
    assert wait_for(lambda: "bad or missing HMAC signature" in kernel.log_text())
    kernel_still_answers(kernel)


def test_unsigned_message_is_dropped(kernel):
    sock, info = raw_shell(kernel)
    unsigned = Session(key=b"")
    unsigned.send(sock, unsigned.msg("kernel_info_request", {}))
    assert not sock.poll(700)
    kernel_still_answers(kernel)


def test_replayed_message_is_dropped(kernel):
    sock, info = raw_shell(kernel)
    session = Session(key=info["key"].encode())
    msg = session.msg("kernel_info_request", {})
    frames = session.serialize(msg)
    sock.send_multipart(frames)
    assert sock.poll(5000)
    sock.recv_multipart()
    sock.send_multipart(frames)
    assert not sock.poll(700)
    assert wait_for(lambda: "replayed" in kernel.log_text())
    kernel_still_answers(kernel)


@pytest.mark.parametrize("frames", [
    [b"garbage"],
    [b"<IDS|MSG>"],
    [b"<IDS|MSG>", b"", b"{}", b"{}", b"{}"],
    [b"<IDS|MSG>", b"", b"not json", b"{}", b"{}", b"{}"],
    [b"<IDS|MSG>", b"", b"[1, 2]", b"{}", b"{}", b"{}"],
    [b"<IDS|MSG>", b"", b'{"msg_id": 5}', b"{}", b"{}", b"{}"],
    [b"<IDS|MSG>", b"", b"\xff\xfe", b"{}", b"{}", b"{}"],
    [b"<IDS|MSG>", b"", b"[" * 100000, b"{}", b"{}", b"{}"],
])
def test_malformed_frames_are_dropped_and_logged(tmp_path, frames):
    k = RunningKernel(tmp_path, key="")  # no key: only the framing and JSON are at fault
    try:
        sock, _ = raw_shell(k)
        sock.send_multipart(frames)
        assert not sock.poll(500)
        assert wait_for(lambda: "dropped a message" in k.log_text())
        kernel_still_answers(k)
        assert "insecure" in k.log_text()
    finally:
        k.stop()


def test_wrong_types_in_known_fields_get_a_reply_not_a_crash(kernel):
    msg = kernel.client.session.msg("execute_request", {"code": 42, "silent": "yes", "user_expressions": []})
    kernel.client.shell_channel.send(msg)
    reply = kernel.client.get_shell_msg(timeout=5)
    assert reply["content"]["status"] == "error"
    kernel_still_answers(kernel)


def test_iopub_welcomes_each_subscriber(kernel):
    info = json.load(open(kernel.connection_file))
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://{info['ip']}:{info['iopub_port']}")
    assert sub.poll(5000)
    session = Session(key=info["key"].encode())
    frames = sub.recv_multipart()
    _, parts = session.feed_identities(frames)
    msg = session.deserialize(parts)
    assert msg["msg_type"] == "iopub_welcome"
    assert msg["content"] == {"subscription": ""}


def test_heartbeat_echoes(kernel):
    info = json.load(open(kernel.connection_file))
    req = zmq.Context.instance().socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(f"tcp://{info['ip']}:{info['hb_port']}")
    req.send(b"ping")
    assert req.poll(3000)
    assert req.recv() == b"ping"


def test_interrupt_request_stops_a_sleeping_cell(kernel):
    client = kernel.client
    msg_id = client.execute("sleep 30")
    time.sleep(0.3)
    started = time.time()
    interrupt = client.session.msg("interrupt_request", {})
    client.control_channel.send(interrupt)
    control = client.get_control_msg(timeout=5)
    assert control["msg_type"] == "interrupt_reply"
    reply = client.get_shell_msg(timeout=5)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "Interrupted"
    assert time.time() - started < 2
    kernel_still_answers(kernel)


def test_sigint_stops_a_sleeping_cell_and_idle_interrupts_are_harmless(kernel):
    kernel.process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    kernel_still_answers(kernel)
    client = kernel.client
    msg_id = client.execute("sleep 30")
    time.sleep(0.3)
    kernel.process.send_signal(signal.SIGINT)
    reply = client.get_shell_msg(timeout=5)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "Interrupted"
    kernel_still_answers(kernel)


def test_control_answers_while_a_cell_runs(kernel):
    client = kernel.client
    client.execute("sleep 2")
    time.sleep(0.2)
    started = time.time()
    client.control_channel.send(client.session.msg("kernel_info_request", {}))
    reply = client.get_control_msg(timeout=5)
    assert reply["msg_type"] == "kernel_info_reply"
    assert time.time() - started < 1
    client.get_shell_msg(timeout=10)


def test_shutdown_on_control_ends_the_process_and_frees_ports(tmp_path):
    k = RunningKernel(tmp_path)
    info = json.load(open(k.connection_file))
    client = k.client
    client.control_channel.send(client.session.msg("shutdown_request", {"restart": True}))
    reply = client.get_control_msg(timeout=5)
    assert reply["content"] == {"status": "ok", "restart": True}
    assert k.process.wait(timeout=10) == 0
    k.stop()
    for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((info["ip"], info[name]))
        s.close()


def test_port_in_use_fails_with_a_clear_message(tmp_path):
    from jupyter_client.connect import write_connection_file

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    path = str(tmp_path / "k.json")
    write_connection_file(path, shell_port=port, key=b"k", ip="127.0.0.1")
    result = subprocess.run([LOOM, "kernel", "-f", path], capture_output=True, text=True, timeout=10)
    busy.close()
    assert result.returncode != 0
    assert f"tcp://127.0.0.1:{port}" in result.stderr
    assert "in use" in result.stderr


def test_bad_connection_file_fails_with_a_clear_message(tmp_path):
    path = tmp_path / "k.json"
    path.write_text('{"shell_port": "x"}')
    result = subprocess.run([LOOM, "kernel", "-f", str(path)], capture_output=True, text=True, timeout=10)
    assert result.returncode != 0
    assert "shell_port" in result.stderr


def test_history_survives_a_restart(tmp_path):
    env = {"LOOM_HISTORY": str(tmp_path / "h.jsonl")}
    first = RunningKernel(tmp_path, env=env)
    execute(first.client, "41 + 1")
    first.stop()
    second = RunningKernel(tmp_path, env=env)
    try:
        second.client.history(hist_access_type="range", session=-1, start=1, stop=None, output=True, raw=True)
        reply = second.client.get_shell_msg(timeout=5)["content"]
        assert reply["history"] == [[1, 1, ["41 + 1", "42"]]]
    finally:
        second.stop()


def test_plots_render_as_svg_in_notebooks(kernel):
    reply, iopub = execute(kernel.client, "set plots svg\nhelp plots")
    displays = [m["content"]["data"] for m in iopub if m["msg_type"] == "display_data"]
    svgs = [d["image/svg+xml"] for d in displays if "image/svg+xml" in d]
    assert len(svgs) >= 8
    assert all(s.startswith("<svg") for s in svgs)
    assert all("text/plain" in d for d in displays)


def execute_in_cell(client, code, cell_id="cell-1"):
    """An execute_request as JupyterLab sends it: the cell's id in the metadata."""
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": True,
               "stop_on_error": True}
    msg = client.session.msg("execute_request", content, metadata={"cellId": cell_id})
    client.shell_channel.send(msg)
    reply = client.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    return reply, collect_iopub(client, msg["header"]["msg_id"])


def test_progress_updates_one_display_in_place(kernel):
    reply, iopub = execute_in_cell(kernel.client, "sleep 1.2")
    first = [m for m in iopub if m["msg_type"] == "display_data"]
    updates = [m for m in iopub if m["msg_type"] == "update_display_data"]
    assert len(first) == 1
    display_id = first[0]["content"]["transient"]["display_id"]
    assert 2 <= len(updates) <= 10  # throttled to a few a second
    assert all(u["content"]["transient"]["display_id"] == display_id for u in updates)
    assert "120/120" in updates[-1]["content"]["data"]["text/plain"]
    assert "<progress" in updates[-1]["content"]["data"]["text/html"]


def test_progress_replaces_one_display_for_clients_that_take_no_input(kernel):
    """nbclient (papermill, nbconvert) records updates in place: it sends `allow_stdin` false and no cell id."""
    reply, iopub = execute(kernel.client, "sleep 1.2", allow_stdin=False)
    assert len([m for m in iopub if m["msg_type"] == "update_display_data"]) >= 2
    assert not [m for m in iopub if m["msg_type"] == "stream"]


def test_progress_is_lines_for_a_console(kernel):
    """A request that takes input and names no cell is a console's, which drops display updates."""
    reply, iopub = execute(kernel.client, "sleep 1.2")
    assert not [m for m in iopub if m["msg_type"] in ("display_data", "update_display_data")]
    text = "".join(m["content"]["text"] for m in iopub if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
    assert "120/120" in text and text.endswith("\n"), text


def test_messages_published_before_anyone_subscribed_reach_the_first_subscriber(tmp_path):
    """A client that sends a request the moment the kernel starts must not lose
    the request's iopub side to ZeroMQ's slow joiner (jupyter console did)."""
    from jupyter_client.connect import write_connection_file

    path = str(tmp_path / "k.json")
    write_connection_file(path, key=b"k", ip="127.0.0.1")
    info = json.load(open(path))
    process = subprocess.Popen([LOOM, "kernel", "-f", path], stderr=subprocess.DEVNULL)
    try:
        ctx = zmq.Context.instance()
        shell = ctx.socket(zmq.DEALER)
        shell.setsockopt(zmq.LINGER, 0)
        shell.connect(f"tcp://127.0.0.1:{info['shell_port']}")
        session = Session(key=b"k")
        request = session.msg("execute_request", {"code": "6 * 7", "silent": False, "store_history": True,
                                                  "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        session.send(shell, request)
        assert shell.poll(10000)  # the cell ran, with nobody on iopub yet
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://127.0.0.1:{info['iopub_port']}")
        kinds = []
        while sub.poll(2000):
            _, parts = session.feed_identities(sub.recv_multipart())
            msg = session.deserialize(parts)
            if msg["parent_header"].get("msg_id") == request["header"]["msg_id"]:
                kinds.append(msg["msg_type"])
            elif msg["msg_type"] == "iopub_welcome":
                kinds.append("iopub_welcome")
            if kinds[-1:] == ["status"] and len(kinds) > 2:
                break
        assert kinds == ["iopub_welcome", "status", "execute_input", "execute_result", "status"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_kernel_exits_when_the_process_that_started_it_dies(tmp_path):
    from jupyter_client.connect import write_connection_file

    path = str(tmp_path / "k.json")
    write_connection_file(path, key=b"k", ip="127.0.0.1")
    pidfile = tmp_path / "pid"
    # A parent shell starts the kernel and exits at once, as a killed front end would.
    subprocess.run(["sh", "-c", f'JPY_PARENT_PID=$$ "{LOOM}" kernel -f "{path}" 2>/dev/null & echo $! > "{pidfile}"; sleep 0.3'],
                   check=True, timeout=10)
    pid = int(pidfile.read_text())
    assert wait_for(lambda: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z",
                    timeout=5)
