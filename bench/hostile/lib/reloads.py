"""For the bench parts that change what `prescale serve` does through its
config (large replies, reload churn): rewrite the config, reload it with
SIGHUP and wait for the server to say so, start the misbehaving Prometheus,
read the served metric's age. The server section is never changed (a reload
does not apply it); the driver's own target is kept, so the monitor's metric
probe keeps reading it. restore() puts the driver's config back.
"""
import calendar
import json
import os
import re
import signal
import subprocess
import sys
import time

import hostile

HERE = os.path.dirname(os.path.abspath(__file__))


def original(t: hostile.Target) -> str:
    """The driver's config as it was before any part changed it."""
    saved = os.path.join(t.work, "config.original.yaml")
    if not os.path.exists(saved):
        with open(t.config) as f, open(saved, "w") as out:
            out.write(f.read())
    with open(saved) as f:
        return f.read()


def rewrite(t: hostile.Target, url: str, prometheus_lines: str = "", targets: str = "",
            keep_targets: bool = True) -> str:
    """The driver's config with prometheus.url replaced (plus extra lines of
    that section) and `targets` (YAML list items) added to its targets."""
    text = original(t)
    text = re.sub(r"(?m)^(  url: ).*$", lambda m: m.group(1) + url, text, count=1)
    for line in prometheus_lines.strip("\n").splitlines():
        key = line.split(":")[0]  # "  timeout": replace the driver's, else add after url
        text, replaced = re.subn(rf"(?m)^{re.escape(key)}:.*$", lambda m: line, text, count=1)
        if not replaced:
            text = re.sub(r"(?m)^(  url: .*)$", lambda m: m.group(1) + "\n" + line, text, count=1)
    head, _, own = text.partition("\ntargets:\n")
    return head + "\ntargets:\n" + (own if keep_targets else "") + targets


def reloads(t: hostile.Target) -> int:
    try:
        with open(os.path.join(t.work, "server.log"), errors="replace") as f:
            log = f.read()
    except OSError:
        return 0
    if "config reload rejected" in log[-20000:]:
        raise RuntimeError("the server rejected a config: " + log[-2000:])
    return log.count("config reloaded")


def reload(t: hostile.Target, text: str, timeout: float = 60.0) -> float:
    """Writes `text` as the config, sends SIGHUP; seconds until it is applied."""
    before = reloads(t)
    with open(t.config + ".new", "w") as f:
        f.write(text)
    os.rename(t.config + ".new", t.config)
    start = time.monotonic()
    os.kill(t.pid, signal.SIGHUP)
    while reloads(t) <= before:
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"no reload within {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - start


def restore(t: hostile.Target) -> None:
    reload(t, original(t))


class Misbehaving:
    """lib/misbehaving_prometheus.py in a child process."""

    def __init__(self, t: hostile.Target, name: str, *args: str):
        self.port_file = os.path.join(t.work, f"{name}.port")
        self.counts_file = os.path.join(t.work, f"{name}.counts")
        for path in (self.port_file, self.counts_file):
            if os.path.exists(path):
                os.remove(path)
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "misbehaving_prometheus.py"), "--port-file",
             self.port_file, "--counts", self.counts_file, *args])
        deadline = time.monotonic() + 10
        while not os.path.exists(self.port_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.url = f"http://127.0.0.1:{f.read().strip()}"

    def count(self, name: str) -> int:
        try:
            with open(self.counts_file) as f:
                return int(json.load(f)[name])
        except (OSError, ValueError, KeyError):
            return 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def metric_age(t: hostile.Target, path: str = "") -> float:
    """Seconds since the served metric's timestamp (its last tick); -1 when not served."""
    sock = hostile.tls(t, hostile.tls_context(t, t.client_cert, t.client_key))
    try:
        status, body = hostile.get(sock, path or t.metric_path)
    finally:
        sock.close()
    if status != 200:
        return -1
    try:
        stamp = json.loads(body)["items"][0]["timestamp"]
        return time.time() - calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    except (ValueError, KeyError, IndexError):
        return -1
