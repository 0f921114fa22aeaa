#!/usr/bin/python3
"""A Prometheus stand-in for the hostile benches, for what a real one cannot
be made to do on demand: answer query_range with a reply of a chosen size
(many series on the grid asked for), or accept a query and never answer.

  misbehaving_prometheus.py --port-file F [--port P] [--reply-bytes N [--large REGEX]]
                            [--hang REGEX] [--counts FILE]

Queries matching --hang are held open without an answer (until the client
goes away). The others get a valid matrix on the requested grid: as many
series as it takes to reach --reply-bytes for queries matching --large (all
of them without --large), one series otherwise. Counts (requests, hung,
hanging, answered, large, bytes) go to --counts as JSON every second.
"""
import argparse
import json
import re
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # A client that cuts a reply (a size limit, a cancelled fetch) is
        # what the benches provoke: not worth a traceback in their output.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--reply-bytes", type=int, default=0)
    ap.add_argument("--hang", default="")
    ap.add_argument("--large", default="")
    ap.add_argument("--counts", default="")
    args = ap.parse_args()
    hang = re.compile(args.hang) if args.hang else None
    large = re.compile(args.large) if args.large else None
    counts = {"requests": 0, "hung": 0, "hanging": 0, "answered": 0, "large": 0, "bytes": 0}
    lock = threading.Lock()
    cache = {}  # (start, end, step) -> body, the last few grids

    def body_for(start, end, step, reply_bytes):
        key = (start, end, step, reply_bytes)
        with lock:
            if key in cache:
                return cache[key]
        points = []
        t = start
        while t <= end + 1e-9:
            points.append('[%d,"%.3f"]' % (t, 100 + (t // step) % 17))
            t += step
        values = ",".join(points)
        one = len(values) + 40
        series = max(1, reply_bytes // one) if reply_bytes else 1
        parts = ['{"metric":{"__name__":"load","series":"s%d"},"values":[%s]}' % (i, values)
                 for i in range(series)]
        body = ('{"status":"success","data":{"resultType":"matrix","result":[' + ",".join(parts)
                + "]}}").encode()
        with lock:
            if len(cache) > 8:
                cache.clear()
            cache[key] = body
        return body

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            url = urlparse(self.path)
            q = parse_qs(url.query)
            query = q.get("query", [""])[0]
            with lock:
                counts["requests"] += 1
            if hang and hang.search(query):
                with lock:
                    counts["hung"] += 1
                    counts["hanging"] += 1
                try:
                    # Hold the connection; notice when the client goes away.
                    self.connection.settimeout(1.0)
                    while True:
                        try:
                            if self.connection.recv(1, 2) == b"":  # MSG_PEEK: closed
                                break
                        except TimeoutError:
                            continue
                        except OSError:
                            break
                finally:
                    with lock:
                        counts["hanging"] -= 1
                return
            if url.path != "/api/v1/query_range":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            is_large = args.reply_bytes > 0 and (large is None or large.search(query) is not None)
            body = body_for(float(q["start"][0]), float(q["end"][0]), float(q["step"][0]),
                            args.reply_bytes if is_large else 0)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                return
            with lock:
                counts["answered"] += 1
                counts["large"] += 1 if is_large else 0
                counts["bytes"] += len(body)

    Server.allow_reuse_address = True
    server = Server(("127.0.0.1", args.port), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)

    def write_counts():
        while args.counts:
            with lock:
                text = json.dumps(counts)
            with open(args.counts + ".tmp", "w") as f:
                f.write(text)
            os.rename(args.counts + ".tmp", args.counts)
            time.sleep(1)

    threading.Thread(target=write_counts, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
