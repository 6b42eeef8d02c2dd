#!/usr/bin/env python3
"""Plots a soak's memory.csv (tests/reliability/scenarios/soak.reliability.ts) into a PNG.

    python3 docs/tools/plot-soak.py artifacts/reliability/soak-<id>/memory.csv docs/soak-memory.png "title"

Needs matplotlib (Debian: apt-get install python3-matplotlib). Top: RSS of the API and of each
worker process; bottom: each worker's JS heap just after its latest major GC, main thread and
training thread (what a leak raises), with the experiments finished on the right axis.
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src, out = sys.argv[1], sys.argv[2]
title = sys.argv[3] if len(sys.argv) > 3 else "Soak: memory per minute"
rows = list(csv.DictReader(open(src)))
minute = [int(r["minute"]) for r in rows]
mb = lambda key: [float(r[key]) / 2**20 if r.get(key) not in (None, "", "NaN") else float("nan") for r in rows]  # noqa: E731
workers = sorted({k.split("_")[0] for k in rows[0] if k.startswith("worker")})

fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
top.plot(minute, mb("api_rss"), label="API RSS", color="black")
colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
for k, w in enumerate(workers):
    top.plot(minute, mb(f"{w}_rss"), label=f"{w} RSS", color=colors[k % len(colors)])
    bottom.plot(minute, mb(f"{w}_main_heap_after_gc"), label=f"{w} main thread", color=colors[k % len(colors)])
    bottom.plot(
        minute, mb(f"{w}_thread_heap_after_gc"), label=f"{w} training thread", color=colors[k % len(colors)], ls="--"
    )
top.set_ylabel("RSS (MB)")
top.set_ylim(bottom=0)
top.grid(alpha=0.3)
top.legend(loc="lower right", fontsize=8)
top.set_title(title)
bottom.set_ylabel("heap after major GC (MB)")
bottom.set_ylim(bottom=0)
bottom.set_xlabel("minute")
bottom.grid(alpha=0.3)
if "done" in rows[0]:
    right = bottom.twinx()
    right.plot(minute, [int(r["done"]) for r in rows], color="grey", lw=1, ls=":", label="experiments finished")
    right.set_ylabel("experiments finished", color="grey")
    right.set_ylim(bottom=0)
    right.legend(loc="upper left", fontsize=8)
bottom.legend(loc="lower right", fontsize=8, ncol=2)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(f"wrote {out}")
