#!/usr/bin/python3
"""plot_bench.py DIR: the tables and plots of bench/model-bench.sh's JSON reports in DIR.

Prints a markdown table of every test (threads, test, tokens/s median ± stddev, GB/s and the
share of the bandwidth limit measured in the same run) and writes two SVG line charts: tokens/s
against threads (threads.svg) and against context depth (depth.svg). Plain SVG, no plotting
library (PyPI is not reachable here)."""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def svg_chart(title, xlabel, series, path):
    """series: {name: [(x, y, err)]}. A line chart with error bars and labeled axes."""
    w, h, left, right, top, bottom = 560, 340, 60, 150, 40, 50
    xs = sorted({x for pts in series.values() for x, _, _ in pts})
    ymax = max(y + e for pts in series.values() for _, y, e in pts) * 1.15
    def px(x):
        return left + (w - left - right) * (xs.index(x) + 0.5) / len(xs)
    def py(y):
        return h - bottom - (h - top - bottom) * y / ymax
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
           f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">{xlabel}</text>',
           f'<text x="15" y="{(top + h - bottom) / 2}" text-anchor="middle" '
           f'transform="rotate(-90 15 {(top + h - bottom) / 2})">tokens/s</text>']
    step = 10 ** max(0, len(str(int(ymax))) - 1) / (2 if ymax < 5 * 10 ** (len(str(int(ymax))) - 1) else 1)
    y = 0.0
    while y <= ymax:
        out.append(f'<line x1="{left - 4}" y1="{py(y):.1f}" x2="{w - right}" y2="{py(y):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 6}" y="{py(y) + 4:.1f}" '
                   f'text-anchor="end">{y:g}</text>')
        y += step
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{h - bottom + 16}" text-anchor="middle">{x}</text>')
    for i, (name, pts) in enumerate(series.items()):
        c = colors[i % len(colors)]
        pts = sorted(pts)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                   (c, " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y, _ in pts)))
        for x, y, e in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>'
                       f'<line x1="{px(x):.1f}" y1="{py(y - e):.1f}" x2="{px(x):.1f}" '
                       f'y2="{py(y + e):.1f}" stroke="{c}"/>'
                       f'<text x="{px(x) + 6:.1f}" y="{py(y) - 6:.1f}" fill="{c}">{y:.1f}</text>')
        out.append(f'<text x="{w - right + 10}" y="{top + 20 + 18 * i}" fill="{c}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main(directory):
    reports = {name[:-5]: load(os.path.join(directory, name))
               for name in sorted(os.listdir(directory)) if name.endswith(".json")}
    print("| report | target | threads | test | t/s | GB/s | of limit |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: |")
    for name, r in reports.items():
        for t in r["tests"]:
            limit = "%.0f %%" % (100 * t["median_ts"] / t["limit_ts"]) if "limit_ts" in t else ""
            gbs = "%.1f" % t["gbs"] if "gbs" in t else ""
            print(f'| {name} | {r["target"]} | {t["threads"]} | {t["test"]} | '
                  f'{t["median_ts"]:.2f} ± {t["stddev_ts"]:.2f} | {gbs} | {limit} |')
    if "threads" in reports:
        series = {}
        for name, label in (("threads", "BF16 head"), ("threads-q8_0", "q8_0 head"),
                            ("threads-q6_k", "q6_k head")):
            for t in reports.get(name, {"tests": []})["tests"]:
                kind = "%s, %s" % (t["test"].split(" ")[0], label)
                series.setdefault(kind, []).append((t["threads"], t["median_ts"], t["stddev_ts"]))
        svg_chart("2b4t preset, %s: tokens/s against threads" % reports["threads"]["target"],
                  "threads", series, os.path.join(directory, "threads.svg"))
    if "depth" in reports:
        series = {}
        for t in reports["depth"]["tests"]:
            series.setdefault("tg%d, %d threads" % (t["n_gen"], t["threads"]), []).append(
                (t["n_depth"], t["median_ts"], t["stddev_ts"]))
            if "limit_ts" in t:
                series.setdefault("bandwidth limit", []).append((t["n_depth"], t["limit_ts"], 0))
        svg_chart("2b4t preset, %s: decode against context depth" % reports["depth"]["target"],
                  "positions already in the KV cache", series, os.path.join(directory, "depth.svg"))


if __name__ == "__main__":
    main(*sys.argv[1:])
