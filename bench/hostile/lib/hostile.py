"""Shared helpers for the hostile-client bench parts (bench/hostile/run).

The driver exports where the server under test is (PRESCALE_HOSTILE_* in the
environment); parts read it through `target()` and use the clients here.
Every loop is bounded by a deadline: parts must stop by themselves.
"""
import os
import socket
import ssl
import time
from dataclasses import dataclass


@dataclass
class Target:
    host: str
    port: int            # HTTPS (the External Metrics API)
    probe_port: int      # plain-HTTP probe port, 0 when the server has none
    pid: int             # the server process (RSS is read from /proc)
    work: str            # scratch folder of this run
    ca: str              # serving CA
    client_cert: str     # client-CA certificate (user "alice", authorized)
    client_key: str
    proxy_cert: str      # front-proxy certificate (CN front-proxy-client)
    proxy_key: str
    stranger_cert: str   # signed by a CA the server does not trust
    stranger_key: str
    metric_path: str     # an external-metric GET that answers 200
    config: str          # the config file `prescale serve` runs with
    prometheus_url: str  # the fake Prometheus the targets read


def target() -> Target:
    e = os.environ
    return Target(
        host=e["PRESCALE_HOSTILE_HOST"], port=int(e["PRESCALE_HOSTILE_PORT"]),
        probe_port=int(e.get("PRESCALE_HOSTILE_PROBE_PORT", "0") or 0),
        pid=int(e["PRESCALE_HOSTILE_PID"]), work=e["PRESCALE_HOSTILE_WORK"],
        ca=e["PRESCALE_HOSTILE_CA"], client_cert=e["PRESCALE_HOSTILE_CLIENT_CERT"],
        client_key=e["PRESCALE_HOSTILE_CLIENT_KEY"], proxy_cert=e["PRESCALE_HOSTILE_PROXY_CERT"],
        proxy_key=e["PRESCALE_HOSTILE_PROXY_KEY"], stranger_cert=e["PRESCALE_HOSTILE_STRANGER_CERT"],
        stranger_key=e["PRESCALE_HOSTILE_STRANGER_KEY"], metric_path=e["PRESCALE_HOSTILE_METRIC_PATH"],
        config=e["PRESCALE_HOSTILE_CONFIG"], prometheus_url=e["PRESCALE_HOSTILE_PROMETHEUS_URL"])


def scale() -> float:
    """PRESCALE_HOSTILE_SCALE shortens (or lengthens) every part's duration."""
    return float(os.environ.get("PRESCALE_HOSTILE_SCALE", "1"))


def tls_context(t: Target, cert: str = "", key: str = "") -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(t.ca)
    if cert:
        context.load_cert_chain(cert, key)
    return context


def tcp(t: Target, port: int, source: str = "127.0.0.1", timeout: float = 5.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((t.host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def tls(t: Target, context: ssl.SSLContext, source: str = "127.0.0.1",
        timeout: float = 5.0) -> ssl.SSLSocket:
    return context.wrap_socket(tcp(t, t.port, source, timeout), server_hostname=t.host)


def read_response(sock, deadline: float, head_request: bool = False, pending: bytes = b""):
    """One HTTP/1.1 response (Content-Length framed), starting with `pending`
    bytes already read: (status, headers, body, leftover); status 0 when the
    connection closed or the deadline passed first."""
    data = pending
    while b"\r\n\r\n" not in data:
        chunk = recv_until(sock, deadline)
        if not chunk:
            return 0, "", b"", data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        return 0, head.decode("latin-1"), b"", rest
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if head_request:
        length = 0
    while len(rest) < length:
        chunk = recv_until(sock, deadline)
        if not chunk:
            return 0, head.decode("latin-1"), rest, b""
        rest += chunk
    return status, head.decode("latin-1"), rest[:length], rest[length:]


def recv_until(sock, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return b""
    sock.settimeout(remaining)
    try:
        return sock.recv(65536)
    except (socket.timeout, OSError, ssl.SSLError):
        return b""


def get(sock, path: str, timeout: float = 5.0, close: bool = True):
    request = f"GET {path} HTTP/1.1\r\nHost: prescale\r\n"
    if close:
        request += "Connection: close\r\n"
    sock.sendall((request + "\r\n").encode())
    status, _, body, _ = read_response(sock, time.monotonic() + timeout)
    return status, body


def percentile(values, q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def report(part: str, line: str) -> None:
    """A result line of a part, in the driver's format."""
    print(f"  {part}: {line}", flush=True)
