"""Watches the server while one bench part attacks it, until STOP_FILE exists
(or --max-seconds pass): RSS every second, and probe latency from separate
processes' point of view (fresh connections, as kubelet and a new aggregator
connection would make them):
  - GET /healthz on the plain-HTTP probe port (or on HTTPS without a client
    certificate when the server has no probe port), every 100 ms;
  - an authenticated external-metric GET over HTTPS with a client-CA
    certificate, every 250 ms.
A probe that fails or takes longer than 5 s counts as failed. Prints a
summary: RSS over time and, per probe, p50/p99/max latency of the answered
ones, failures, and the longest time without an answer (kubelet fails a
liveness probe after 3 x 20 s in the chart).
Usage: monitor.py STOP_FILE [--max-seconds N]
"""
import sys
import threading
import time

import hostile

PROBE_TIMEOUT = 5.0


def healthz(t: hostile.Target, context) -> bool:
    if t.probe_port:
        sock = hostile.tcp(t, t.probe_port, timeout=PROBE_TIMEOUT)
    else:
        sock = hostile.tls(t, context, timeout=PROBE_TIMEOUT)
    try:
        status, body = hostile.get(sock, "/healthz", PROBE_TIMEOUT)
        return status == 200 and body == b"ok"
    finally:
        sock.close()


def metric(t: hostile.Target, context) -> bool:
    sock = hostile.tls(t, context, timeout=PROBE_TIMEOUT)
    try:
        status, body = hostile.get(sock, t.metric_path, PROBE_TIMEOUT)
        return status == 200 and b"ExternalMetricValueList" in body
    finally:
        sock.close()


class Probe(threading.Thread):
    def __init__(self, name, check, period, stop):
        super().__init__(daemon=True)
        self.name, self.check, self.period, self.stop = name, check, period, stop
        self.latencies, self.failures = [], 0
        self.longest_outage, self.last_success = 0.0, time.monotonic()

    def run(self):
        self.last_success = time.monotonic()
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                ok = self.check()
            except (OSError, ValueError):
                ok = False
            elapsed = time.monotonic() - start
            now = time.monotonic()
            if ok and elapsed <= PROBE_TIMEOUT:
                self.latencies.append(elapsed * 1000.0)
                self.longest_outage = max(self.longest_outage, now - self.last_success)
                self.last_success = now
            else:
                self.failures += 1
                self.longest_outage = max(self.longest_outage, now - self.last_success)
            self.stop.wait(max(0.0, self.period - elapsed))

    def summary(self) -> str:
        n = len(self.latencies) + self.failures
        lat = self.latencies
        return (f"{self.name:<34} n={n:<4} failed={self.failures:<4} "
                f"p50={hostile.percentile(lat, 0.5):8.2f} ms  p99={hostile.percentile(lat, 0.99):8.2f} ms  "
                f"max={max(lat) if lat else float('nan'):8.2f} ms  "
                f"longest without an answer {self.longest_outage:5.1f} s")


def main():
    stop_file = sys.argv[1]
    max_seconds = 300.0
    if "--max-seconds" in sys.argv:
        max_seconds = float(sys.argv[sys.argv.index("--max-seconds") + 1])
    t = hostile.target()
    anonymous = hostile.tls_context(t)
    authenticated = hostile.tls_context(t, t.client_cert, t.client_key)
    stop = threading.Event()
    where = f"probe port :{t.probe_port}" if t.probe_port else "HTTPS, no certificate"
    probes = [Probe(f"GET /healthz ({where})", lambda: healthz(t, anonymous), 0.1, stop),
              Probe("GET external metric (HTTPS, client cert)", lambda: metric(t, authenticated), 0.25, stop)]
    for probe in probes:
        probe.start()
    start = time.monotonic()
    samples = []
    import os
    while not os.path.exists(stop_file) and time.monotonic() - start < max_seconds:
        samples.append((time.monotonic() - start, hostile.rss_mib(t.pid)))
        time.sleep(1.0)
    samples.append((time.monotonic() - start, hostile.rss_mib(t.pid)))
    stop.set()
    for probe in probes:
        probe.join(PROBE_TIMEOUT + 1)
    # RSS over time: at most ~12 points, plus the peak.
    stride = max(1, len(samples) // 12)
    timeline = "  ".join(f"{s:.0f}s:{r:.0f}" for s, r in samples[::stride])
    peak = max(r for _, r in samples)
    print(f"    RSS MiB  {timeline}  (peak {peak:.0f}, end {samples[-1][1]:.0f})")
    for probe in probes:
        print("    " + probe.summary())
    print(f"    server {'alive' if hostile.alive(t.pid) else 'DEAD'}", flush=True)


if __name__ == "__main__":
    main()
