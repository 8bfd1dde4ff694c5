"""Loom's kernel against ipykernel, side by side in one run: start to the
first kernel_info_reply, a trivial execute to idle, and cells per second.

Run with `make bench`. Each kernel is driven by the same two clients: the
compiled `kernel-bench` client (Swift, so the client's own cost stays out of
the kernel's figures) and a plain pyzmq client (what Python tools pay).
Figures are medians; the ratio column says how many times better Loom is
(ipykernel/Loom for times, Loom/ipykernel for rates)."""
import json

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")

home = Path(tempfile.mkdtemp(prefix="loom-bench-"))
subprocess.run([LOOM, "install", "--prefix", str(home)], check=True, capture_output=True)
os.environ["JUPYTER_PATH"] = str(home / "share" / "jupyter")
os.environ["LOOM_HISTORY"] = str(home / "history.jsonl")

KERNELS = {"loom": "6 * 7", "python3": "6 * 7"}
STARTS = int(os.environ.get("BENCH_STARTS", "5"))
EXECUTES = int(os.environ.get("BENCH_EXECUTES", "1000"))


class RawClient:
    """A minimal client on plain pyzmq sockets (no client threads), so the
    figures are the kernel's rather than jupyter_client's queues. The same
    client drives both kernels."""

    def __init__(self, name, tmp):
        import json

        import zmq
        from jupyter_client.connect import write_connection_file
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.session import Session

        self.connection_file = str(tmp / f"{name}-{time.perf_counter_ns()}.json")
        write_connection_file(self.connection_file, key=b"bench-key", ip="127.0.0.1")
        info = json.load(open(self.connection_file))
        spec = KernelSpecManager().get_kernel_spec(name)
        argv = [a.replace("{connection_file}", self.connection_file) for a in spec.argv]
        if argv[0] == "python":
            argv[0] = sys.executable
        self.session = Session(key=b"bench-key")
        ctx = zmq.Context.instance()
        self.shell = ctx.socket(zmq.DEALER)
        self.iopub = ctx.socket(zmq.SUB)
        for sock in (self.shell, self.iopub):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RECONNECT_IVL, 2)  # the default 100 ms would dominate start-up
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(argv, env={**os.environ, **spec.env}, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.shell.connect(f"tcp://127.0.0.1:{info['shell_port']}")
        self.iopub.connect(f"tcp://127.0.0.1:{info['iopub_port']}")

    def request(self, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(self.shell, msg)
        return msg["header"]["msg_id"]

    def reply(self, timeout_ms=10000):
        if not self.shell.poll(timeout_ms):
            raise TimeoutError("no reply")
        _, frames = self.session.feed_identities(self.shell.recv_multipart())
        return self.session.deserialize(frames)

    def wait_idle(self, msg_id):
        while True:
            if not self.iopub.poll(10000):
                raise TimeoutError("no idle")
            _, frames = self.session.feed_identities(self.iopub.recv_multipart())
            msg = self.session.deserialize(frames)
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"):
                return

    def execute(self, code):
        msg_id = self.request("execute_request", {"code": code, "silent": False, "store_history": True,
                                                  "user_expressions": {}, "allow_stdin": False,
                                                  "stop_on_error": True})
        self.reply()
        self.wait_idle(msg_id)

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.shell.close()
        self.iopub.close()


def start_time(name):
    """Seconds from launching the process to the first kernel_info_reply."""
    client = RawClient(name, home)
    client.request("kernel_info_request", {})
    client.reply()
    elapsed = time.perf_counter() - client.started
    client.close()
    return elapsed


def execute_times(name, code):
    client = RawClient(name, home)
    client.request("kernel_info_request", {})
    client.reply()
    for _ in range(20):  # warm up, and let iopub subscribe
        client.execute(code)
    times = []
    started = time.perf_counter()
    for _ in range(EXECUTES):
        t = time.perf_counter()
        client.execute(code)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    client.close()
    return times, total


def python_client(name, code):
    starts = [start_time(name) for _ in range(STARTS)]
    times, total = execute_times(name, code)
    return {"start_ms": statistics.median(starts) * 1000, "execute_ms": statistics.median(times) * 1000,
            "cells_per_s": EXECUTES / total}


def compiled_client(name, code):
    from jupyter_client.kernelspec import KernelSpecManager

    spec = Path(KernelSpecManager().get_kernel_spec(name).resource_dir) / "kernel.json"
    result = subprocess.run([str(ROOT / ".build" / "release" / "kernel-bench"), str(spec), code, str(STARTS), str(EXECUTES)],
                            capture_output=True, text=True, check=True, env={**os.environ, "BENCH_PYTHON": sys.executable})
    return json.loads(result.stdout)


def main():
    for title, client in [("compiled client (kernel-bench)", compiled_client), ("Python client (pyzmq)", python_client)]:
        print(f"\n{title}")
        report({name: client(name, code) for name, code in KERNELS.items()})


def report(results):
    loom, ipy = results["loom"], results["python3"]
    rows = [
        ("start to first kernel_info_reply (ms, median)", "start_ms", False),
        ("trivial execute to idle (ms, median)", "execute_ms", False),
        (f"cells per second over {EXECUTES} executes", "cells_per_s", True),
    ]
    print(f"{'measure':<48} {'loom':>10} {'ipykernel':>10} {'ratio':>8}")
    for label, key, higher_better in rows:
        ratio = loom[key] / ipy[key] if higher_better else ipy[key] / loom[key]
        print(f"{label:<48} {loom[key]:>10.2f} {ipy[key]:>10.2f} {ratio:>7.1f}x")
    print("ratio: how many times better Loom is (time: ipykernel/loom; rate: loom/ipykernel)")


if __name__ == "__main__":
    sys.exit(main())
