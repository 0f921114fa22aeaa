"""TLS handshake flood: 4 processes from 16 client addresses (127.0.0.32-47)
open connections as fast as they can and send a ClientHello, never finishing
the handshake; each keeps its last 100 open. The server pays for a key
exchange and a signature per connection. Plus one process completing full
handshakes without a certificate, then closing. Runs 20 s."""
import collections
import multiprocessing
import socket
import ssl
import time

import hostile

PART = "handshake-flood"


def client_hello() -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="prescale")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def half_open(worker: int, deadline: float, counter):
    t = hostile.target()
    hello = client_hello()
    held = collections.deque()
    opened = 0
    while time.monotonic() < deadline:
        source = f"127.0.0.{32 + (worker * 4 + opened) % 16}"
        try:
            sock = hostile.tcp(t, t.port, source, timeout=1.0)
            sock.sendall(hello)
            held.append(sock)
            opened += 1
        except OSError:
            time.sleep(0.01)
        while len(held) > 100:
            held.popleft().close()
    for sock in held:
        sock.close()
    with counter.get_lock():
        counter.value += opened


def full(deadline: float, counter):
    t = hostile.target()
    context = hostile.tls_context(t)
    done = 0
    while time.monotonic() < deadline:
        try:
            hostile.tls(t, context, "127.0.0.48", timeout=2.0).close()
            done += 1
        except (OSError, ssl.SSLError):
            time.sleep(0.01)
    with counter.get_lock():
        counter.value += done


if __name__ == "__main__":
    duration = 20.0 * hostile.scale()
    deadline = time.monotonic() + duration
    half, complete = multiprocessing.Value("q", 0), multiprocessing.Value("q", 0)
    workers = [multiprocessing.Process(target=half_open, args=(i, deadline, half)) for i in range(4)]
    workers.append(multiprocessing.Process(target=full, args=(deadline, complete)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(duration + 15)
    hostile.report(PART, f"{half.value} ClientHellos on new connections ({half.value / duration:.0f}/s), "
                   f"{complete.value} complete handshakes ({complete.value / duration:.0f}/s) in {duration:.0f} s")
