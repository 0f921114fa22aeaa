"""Long URIs: an authenticated GET whose query pads the URI to 5 KiB, 9 KiB,
64 KiB and 1 MiB; then the same heads left unfinished (no CRLF). The server
should answer a 414 metav1.Status at once, without waiting for the end."""
import json
import time

import hostile

PART = "long-uri"
t = hostile.target()
context = hostile.tls_context(t, t.client_cert, t.client_key)
for finished in (True, False):
    for size in (5 * 1024, 9 * 1024, 64 * 1024, 1024 * 1024):
        sock = hostile.tls(t, context)
        head = f"GET {t.metric_path}&pad=".encode() + b"a" * size
        if finished:
            head += b" HTTP/1.1\r\nHost: prescale\r\n\r\n"
        start = time.monotonic()
        try:
            sock.sendall(head)
        except OSError:
            pass  # the server answered and closed before the end
        status, _, body, _ = hostile.read_response(sock, start + 10.0)
        took = (time.monotonic() - start) * 1000
        try:
            kind = json.loads(body).get("reason", "?")
        except ValueError:
            kind = f"not JSON ({len(body)} bytes)"
        hostile.report(PART, f"{'complete' if finished else 'unfinished'} head, URI {size // 1024:>4} KiB: "
                       f"status {status or 'none'}, body {kind}, {took:.0f} ms")
        sock.close()
