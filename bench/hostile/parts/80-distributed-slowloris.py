"""Distributed slowloris: 1,200 silent TCP connections (never a byte) from 48
client addresses (127.0.0.100-147), 25 each, under the per-address cap of 32
for connections without a verified certificate, so together they exceed the
1,024-connection cap. A connection the server closes is opened again at once.
Without eviction the slots stay full until each connection's 10 s handshake
deadline and new connections are refused, the monitor's authenticated GETs
included; with it each new connection closes the one that has waited
longest. Reports connects, cuts and how long a cut connection lived; the
monitor's metric GET line is the figure that matters. Runs 30 s."""
import heapq
import selectors
import socket
import time

import hostile

PART = "distributed-slowloris"
t = hostile.target()
duration = 30.0 * hostile.scale()
deadline = time.monotonic() + duration
addresses = [f"127.0.0.{100 + i}" for i in range(48)]
per_address = 25

selector = selectors.DefaultSelector()
stats = {"opened": 0, "cut": 0, "failed": 0, "held": []}


def open_one(source: str):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.setblocking(False)
    try:
        sock.connect((t.host, t.port))
    except BlockingIOError:
        pass
    except OSError:
        stats["failed"] += 1
        sock.close()
        return
    stats["opened"] += 1
    selector.register(sock, selectors.EVENT_READ, (source, time.monotonic()))


for source in addresses:
    for _ in range(per_address):
        open_one(source)

# Refused at once (closed at accept): open again after a pause, not in a spin.
pending = []
while time.monotonic() < deadline:
    now = time.monotonic()
    while pending and pending[0][0] <= now:
        open_one(heapq.heappop(pending)[1])
    for key, _ in selector.select(timeout=0.05):
        source, opened = key.data
        try:
            data = key.fileobj.recv(4096)
        except (ConnectionError, OSError):
            data = b""
        if data:
            continue  # the server wrote something (it never should): keep holding
        selector.unregister(key.fileobj)
        key.fileobj.close()
        lived = time.monotonic() - opened
        stats["cut"] += 1
        stats["held"].append(lived)
        heapq.heappush(pending, (time.monotonic() + (0.2 if lived < 0.5 else 0.0), source))

for key in list(selector.get_map().values()):
    key.fileobj.close()
held = stats["held"]
hostile.report(PART, f"{stats['opened']} connections opened in {duration:.0f} s from "
               f"{len(addresses)} addresses, {stats['cut']} cut by the server, "
               f"{stats['failed']} connects failed")
if held:
    hostile.report(PART, f"lifetime of a cut connection: median {hostile.percentile(held, 0.5):.1f} s, "
                   f"max {max(held):.1f} s")
else:
    hostile.report(PART, "no connection was cut by the server")
