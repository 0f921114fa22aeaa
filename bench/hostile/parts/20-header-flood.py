"""Header flood: 10 TLS connections from 127.0.0.20, no certificate, each
sending one request head of 1,000,000 header lines (~20 MB) as fast as the
server reads. Reports what the server answered and how much it read before
it stopped reading; the monitor shows what it cost in RSS."""
import threading
import time

import hostile

PART = "header-flood"
t = hostile.target()
limit = 30.0 * hostile.scale()
context = hostile.tls_context(t)
lines = int(1_000_000 * min(1.0, hostile.scale()))
batch = b"".join(b"X-Flood-%07d: 1\r\n" % i for i in range(3000))  # ~60 KB
results = []
lock = threading.Lock()


def flood():
    start = time.monotonic()
    deadline = start + limit
    sent = 0
    try:
        sock = hostile.tls(t, context, "127.0.0.20", timeout=10.0)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: prescale\r\n")
        for _ in range(lines // 3000):
            if time.monotonic() > deadline:
                break
            sock.sendall(batch)
            sent += len(batch)
        sock.sendall(b"\r\n")
    except OSError:
        pass  # the server stopped reading: expected
    status, headers, body, _ = (0, "", b"", b"")
    try:
        status, headers, body, _ = hostile.read_response(sock, time.monotonic() + 5.0)
    except (OSError, NameError):
        pass
    with lock:
        results.append((status, sent, time.monotonic() - start, body[:80]))


threads = [threading.Thread(target=flood, daemon=True) for _ in range(10)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(limit + 20)
statuses = {}
for status, _, _, _ in results:
    statuses[status] = statuses.get(status, 0) + 1
sent = sorted(r[1] for r in results)
hostile.report(PART, f"answers by status: {statuses} (0 = none); "
               f"bytes sent before the server stopped reading: median {sent[len(sent) // 2] / 1e6:.2f} MB, "
               f"max {sent[-1] / 1e6:.2f} MB of {lines * 20 / 1e6:.0f} MB")
example = next((r[3] for r in results if r[0]), b"")
if example:
    hostile.report(PART, f"answer body: {example.decode(errors='replace')}...")
