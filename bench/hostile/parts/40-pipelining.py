"""Pipelining (RFC 9112 section 9.3.2): one TLS connection with a client
certificate sends 20 external-metric GETs in one write, the last with
Connection: close. A server must answer them in order, or answer the first
and close. Repeated on 5 connections."""
import time

import hostile

PART = "pipelining"
t = hostile.target()
context = hostile.tls_context(t, t.client_cert, t.client_key)
rounds, answered, elapsed = 5, [], []
for _ in range(rounds):
    sock = hostile.tls(t, context)
    requests = b""
    for i in range(20):
        requests += f"GET {t.metric_path} HTTP/1.1\r\nHost: prescale\r\n".encode()
        requests += b"Connection: close\r\n\r\n" if i == 19 else b"\r\n"
    start = time.monotonic()
    sock.sendall(requests)
    deadline = start + 15.0
    count, leftover = 0, b""
    while count < 20:
        # several answers may arrive in one read: carry what is left over
        status, _, body, leftover = hostile.read_response(sock, deadline, pending=leftover)
        if status != 200 or b"ExternalMetricValueList" not in body:
            break
        count += 1
    elapsed.append(time.monotonic() - start)
    answered.append(count)
    sock.close()
hostile.report(PART, f"answers per 20 pipelined requests: min {min(answered)}, max {max(answered)} "
               f"over {rounds} connections; time to the last answer: median "
               f"{hostile.percentile(elapsed, 0.5) * 1000:.1f} ms, max {max(elapsed) * 1000:.1f} ms")
