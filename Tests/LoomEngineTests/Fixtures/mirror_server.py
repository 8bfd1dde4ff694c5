"""A local mirror for the download tests: serves FILE from the folder given,
well or badly by the first part of the path. Prints its port, then the size
and SHA-256 of each file it serves (hashlib's, independent of Loom's).

  /good/NAME   the file
  /missing/... 404
  /bad/NAME    as many bytes, one flipped (a checksum mismatch)
  /short/NAME  the full Content-Length, half the body, then the connection closes
  /long/NAME   the file and 1,000 bytes more, no Content-Length
  /slow/NAME   the file in 16 KiB pieces, 50 ms apart
"""
import hashlib
import http.server
import os
import sys
import time

folder = sys.argv[1]


class Mirror(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = self.path.strip("/").split("/", 1)
        path = os.path.join(folder, parts[-1]) if len(parts) == 2 else ""
        if parts[0] == "missing" or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        kind = parts[0]
        if kind == "bad":
            body = body[:-1] + bytes([body[-1] ^ 1])
        self.send_response(200)
        if kind == "long":
            body += b"\0" * 1000
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "short":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if kind == "slow":
            for i in range(0, len(body), 16384):
                self.wfile.write(body[i:i + 16384])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
print(server.server_address[1])
for name in sorted(os.listdir(folder)):
    with open(os.path.join(folder, name), "rb") as f:
        data = f.read()
    print(name, len(data), hashlib.sha256(data).hexdigest())
print("ready", flush=True)
server.serve_forever()
