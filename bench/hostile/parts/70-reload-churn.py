"""Reload churn on a hung Prometheus: twice, 2,000 targets whose queries are
accepted and never answered are reloaded in beside the driver's target, held
for 15 s (every tick thread stuck on them), then reloaded out. Measured: how
long the reload takes, how stale the driver's target gets (seconds since its
last tick, read every 0.5 s from its metric's timestamp; it ticks every
minute, so up to 60 s is its normal), and whether the removed targets are
still fetched. Then SIGTERM on a second server of the same binary holding
2,000 hung fetches: the time to exit (Kubernetes' default grace is 30 s)."""
import os
import signal
import socket
import subprocess
import time

import hostile
import reloads

PART = "reload-churn"
HUNG, ROUNDS = 2000, 2
t = hostile.target()
hold = 15 * hostile.scale()
prometheus = reloads.Misbehaving(t, "hung", "--hang", "hung")
hung_targets = "".join(f'  - {{metric: hung-{i}, query: "hung{{i=\\"{i}\\"}}", step: 1m, '
                       f"history: 1h, seasonality: [10m]}}\n" for i in range(HUNG))
try:
    for round_ in range(1, ROUNDS + 1):
        up = reloads.reload(t, reloads.rewrite(t, prometheus.url, "\n  timeout: 30s", hung_targets))
        time.sleep(hold)
        stuck, rss = prometheus.count("hanging"), hostile.rss_mib(t.pid)
        down = reloads.reload(t, reloads.rewrite(t, prometheus.url, "\n  timeout: 30s"))
        start, max_age, served_after, fetched_at_3s = time.monotonic(), 0.0, -1.0, None
        while time.monotonic() - start < 15:
            age = reloads.metric_age(t)
            if age >= 0:
                served_after = time.monotonic() - start if served_after < 0 else served_after
                max_age = max(max_age, age)
            if fetched_at_3s is None and time.monotonic() - start >= 3:
                fetched_at_3s = prometheus.count("hung")
            time.sleep(0.5)
        removed_fetched = prometheus.count("hung") - (fetched_at_3s or 0)
        hostile.report(PART, f"round {round_}: reload to {HUNG + 1} targets {up:.2f} s, "
                       f"{stuck} fetches hung after {hold:.0f} s, RSS {rss:.0f} MiB; reload to 1 "
                       f"target {down:.2f} s; its metric served {served_after:.1f} s later, at "
                       f"most {max_age:.0f} s old; removed targets fetched after 3 s: "
                       f"{removed_fetched}")
    reloads.restore(t)
    # SIGTERM under load, on a second server of the same binary.
    binary = os.readlink(f"/proc/{t.pid}/exe")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = os.path.join(t.work, "churn-sigterm.yaml")
    with open(config, "w") as f:
        f.write(f"prometheus:\n  url: {prometheus.url}\n  timeout: 30s\nserver:\n"
                f"  address: 127.0.0.1:{port}\n  tlsCertFile: {t.work}/server.crt\n"
                f"  tlsKeyFile: {t.work}/server.key\ntargets:\n" + hung_targets)
    hung_before = prometheus.count("hanging")
    with open(os.path.join(t.work, "churn-sigterm.log"), "w") as log:
        server = subprocess.Popen([binary, "serve", "--config", config], stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while prometheus.count("hanging") < hung_before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)
    held = prometheus.count("hanging") - hung_before
    start = time.monotonic()
    server.send_signal(signal.SIGTERM)
    try:
        status = server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        status = server.wait()
    took = time.monotonic() - start
    with open(os.path.join(t.work, "churn-sigterm.log"), errors="replace") as f:
        forced = "shutdown deadline passed" in f.read()
    hostile.report(PART, f"SIGTERM with {HUNG} hung targets ({held} fetches in flight): exited "
                   f"in {took:.2f} s, status {status}"
                   f"{' (by the 8 s shutdown deadline)' if forced else ''}")
finally:
    prometheus.stop()
