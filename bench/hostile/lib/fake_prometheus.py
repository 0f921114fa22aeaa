"""A stand-in for Prometheus' query API with one daily-seasonal series, so
`prescale serve` has something to forecast in the hostile bench.
Usage: fake_prometheus.py PORT_FILE   (binds 127.0.0.1:0, writes the port)
Answers GET /api/v1/query_range and /api/v1/query; anything else 404.
"""
import json
import math
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def value(t: float) -> float:
    day = 2 * math.pi * (t % 86400) / 86400
    return 200.0 + 80.0 * math.sin(day) + 10.0 * math.sin(7 * day)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        metric = {"__name__": "requests_per_second", "app": "payments"}
        if url.path == "/api/v1/query_range":
            start, end, step = float(q["start"]), float(q["end"]), float(q["step"])
            n = int((end - start) // step) + 1
            values = [[start + i * step, f"{value(start + i * step):.3f}"] for i in range(n)]
            data = {"resultType": "matrix", "result": [{"metric": metric, "values": values}]}
        elif url.path == "/api/v1/query":
            t = float(q.get("time", "0"))
            data = {"resultType": "vector", "result": [{"metric": metric, "value": [t, f"{value(t):.3f}"]}]}
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"status": "success", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
