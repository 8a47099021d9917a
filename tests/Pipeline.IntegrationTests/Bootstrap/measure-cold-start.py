#!/usr/bin/env python3
"""Cold start of a published bootstrap: process start -> first Runtime API call, -> first answer
(wall ms), and the CPU ms the process used until it was killed after answering.

Usage: measure-cold-start.py PUBLISH_DIR HANDLER [RUNS] [EVENT_FILE]
A tiny Runtime API on 127.0.0.1 serves one event per run: '{"Records":[]}', or the JSON in
EVENT_FILE (with the handler's environment, e.g. ARCHIVE_BUCKET and AWS_ENDPOINT_URL, set by the
caller: a real Kinesis event then includes the first AWS calls). Prints one line per
run and the median. A measurement for the issue note, not a test.
"""
import http.server, json, os, statistics, subprocess, sys, threading, time

publish_dir, handler = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
event = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else b'{"Records":[]}'


class Api(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _mark(self, what):
        self.server.marks.setdefault(what, time.monotonic())
        self.server.marks.setdefault("first", time.monotonic())

    def do_GET(self):
        self._mark("next")
        if self.server.served:
            self.server.done.wait(30)
            return
        self.server.served = True
        body = event
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._mark("init-error" if self.path.endswith("/init/error") else "answer")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.done.set()


results = []
for i in range(runs):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.marks, server.served, server.done = {}, False, threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}", _HANDLER=handler)
    start = time.monotonic()
    proc = subprocess.Popen([os.path.join(publish_dir, "bootstrap")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server.done.wait(30)
    proc.kill()
    _, _, usage = os.wait4(proc.pid, 0)  # CPU time is less sensitive than wall time to a busy machine
    proc.returncode = -9
    server.shutdown()
    ms = {k: round((v - start) * 1000, 1) for k, v in server.marks.items()}
    ms["cpu"] = round((usage.ru_utime + usage.ru_stime) * 1000, 1)
    results.append(ms)
    print(f"run {i + 1}: " + json.dumps(ms))

for key in ("next", "answer", "init-error", "cpu"):
    values = [r[key] for r in results if key in r]
    if values:
        print(f"median {key}: {statistics.median(values)} ms over {len(values)} runs")
