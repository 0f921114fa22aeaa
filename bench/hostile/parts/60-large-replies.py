"""Large Prometheus replies: 10 more targets (reloaded in, beside the
driver's) whose every query_range is answered with 60 MB (hundreds of
series of 10,080 points, so each tick fetches, parses and refuses the whole
window again), prometheus.maxReplySize 64Mi so they are parsed, not cut;
for 75 s, then the driver's config again. RSS peak against the documented
bound (SECURITY.md: 150 MB + tick threads x 6 x maxReplySize, here 918 MiB
with 2 tick threads), and RSS after, when the large replies' buffers must
be gone. The 10-minute, 100-target soak is bench/hostile/large-replies-soak."""
import os
import time

import hostile
import reloads

PART = "large-replies"
TARGETS, REPLY_MB, MAX_REPLY_MIB, TICK_THREADS = 10, 60, 64, 2
t = hostile.target()
seconds = 75 * hostile.scale()
bound = 150 + TICK_THREADS * 6 * MAX_REPLY_MIB
prometheus = reloads.Misbehaving(t, "large", "--reply-bytes", str(REPLY_MB * 1000 * 1000),
                                 "--large", "big")
try:
    before = hostile.rss_mib(t.pid)
    targets = "".join(f'  - {{metric: big-{i}, query: "load{{big=\\"{i}\\"}}", step: 1m, '
                      f"history: 7d, seasonality: [1d]}}\n" for i in range(TARGETS))
    reloads.reload(t, reloads.rewrite(t, prometheus.url, f"\n  maxReplySize: {MAX_REPLY_MIB}Mi",
                                      targets))
    peak, start = before, time.monotonic()
    while time.monotonic() - start < seconds and hostile.alive(t.pid):
        peak = max(peak, hostile.rss_mib(t.pid))
        time.sleep(0.5)
    served, gigabytes = prometheus.count("large"), prometheus.count("bytes") / 1e9
    reloads.restore(t)
    time.sleep(5)
    after = hostile.rss_mib(t.pid)
finally:
    prometheus.stop()
hostile.report(PART, f"{TARGETS} targets x {REPLY_MB} MB replies for {seconds:.0f} s: {served} "
               f"replies parsed ({gigabytes:.1f} GB)")
hostile.report(PART, f"RSS before {before:.0f} MiB, peak {peak:.0f} MiB, 5 s after the large "
               f"targets left {after:.0f} MiB; bound {bound} MiB: "
               f"{'held' if peak <= bound else 'EXCEEDED'}")
