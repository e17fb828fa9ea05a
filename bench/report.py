"""The benchmark's report: a Markdown file of figures against the issue's targets, and an SVG
chart drawn here by hand (no plotting library)."""

import html
from pathlib import Path

READ_TARGET, WRITE_TARGET, TAIL_TARGET, SCALE_TARGET, BYTES_TARGET = 0.25, 0.2, 10.0, 1.3, 150 * 1024
ANALYSIS = Path(__file__).with_name("analysis.md")


def _mark(ok: bool) -> str:
    return "yes" if ok else "**MISS**"


def _ratio(a, b) -> float:
    return a / b if b else float("inf")


def evaluate(results: dict) -> list[dict]:
    """One row per page with every figure and whether each target is met."""
    hello = results["hello"]
    rows = []
    for name, large in results["large"]["pages"].items():
        small = results["small"]["pages"].get(name, {})
        target = READ_TARGET if large["kind"] == "read" else WRITE_TARGET
        row = {
            "name": name, "kind": large["kind"], "large": large, "small": small,
            "x_hello": _ratio(large["rps"], hello["rps"]),
            "x_hello_small": _ratio(small.get("rps", 0), hello["rps"]),
            "p50_x_hello": _ratio(large["p50_ms"], hello["p50_ms"]),
            "tail": _ratio(large["p99_ms"], large["p50_ms"]),
            "scale": _ratio(small.get("rps", 0), large["rps"]),  # how many times slower at full size
            "scale_p50": _ratio(large["p50_ms"], small.get("p50_ms", 0) or float("nan")),
            "target": target,
        }
        row["ok_throughput"] = row["x_hello"] >= target
        row["ok_tail"] = row["tail"] <= TAIL_TARGET
        row["ok_scale"] = row["scale"] <= SCALE_TARGET
        rows.append(row)
    return rows


def markdown(results: dict) -> str:
    hello, rows = results["hello"], evaluate(results)
    out = [
        "# Benchmark results",
        "",
        f"Run {results['started']} on {results['database']}, {results['cores']} cores, with the load generator "
        f"(bench/loadgen.py, {results['connections']} keep-alive connections, {results['seconds']:.0f} s per page) on the "
        f"same machine; gunicorn with deploy/gunicorn.conf.py. The whole run took {results['minutes']} minutes; the "
        f"machine's load average was {results.get('load_before', '?')} before and {results.get('load_after', '?')} after "
        "(other work on the machine slows every figure, hello-world's too). "
        "`make bench` (SQLite) or `DATABASE_URL=postgresql://... make bench` reproduces it.",
        "",
        f"Hello-world Flask route under the same settings: **{hello['rps']:.0f} req/s**, p50 {hello['p50_ms']:.1f} ms, "
        f"p95 {hello['p95_ms']:.1f} ms, p99 {hello['p99_ms']:.1f} ms (best of a run before and after: "
        f"{results['hello_before']['rps']:.0f} and {results['hello_after']['rps']:.0f} req/s).",
        "",
        f"Large data set: the reference street (scale {results['large']['scale']}). Small: scale {results['small']['scale']}. "
        f"The statement page is a volunteer with {results['large']['statement_history']} transfers credited "
        f"(small: {results['small']['statement_history']}).",
        "",
        "## Throughput and latency on the large data set",
        "",
        "| page | req/s | × hello | target | p50 ms | p95 ms | p99 ms | p50 × hello | p99 / p50 | ok | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lg = r["large"]
        out.append(
            f"| {r['name']} | {lg['rps']:.0f} | {r['x_hello']:.2f} | ≥ {r['target']} {_mark(r['ok_throughput'])} | "
            f"{lg['p50_ms']:.1f} | {lg['p95_ms']:.1f} | {lg['p99_ms']:.1f} | {r['p50_x_hello']:.1f} | "
            f"{r['tail']:.1f} {_mark(r['ok_tail'])} | {lg['ok']} | {lg['failed']} |")
    out += [
        "",
        "Writes: each request is one POST of a one-time item (a job, a voucher, a volunteer at an event); "
        "the redirect that follows is not counted. \"failed\" counts answers that were not the success answer.",
        "",
        "## Large / small",
        "",
        "| page | small req/s | large req/s | small / large req/s | p50 small ms | p50 large ms | large / small p50 | ≤ 1.3 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        sm, lg = r["small"], r["large"]
        out.append(f"| {r['name']} | {sm.get('rps', 0):.0f} | {lg['rps']:.0f} | {r['scale']:.2f} | "
                   f"{sm.get('p50_ms', 0):.1f} | {lg['p50_ms']:.1f} | {r['scale_p50']:.2f} | {_mark(r['ok_scale'])} |")
    out += ["", "## Queries per request (in-process, one request after a warm-up)", "",
            "| page | queries small | queries large | ms small | ms large | profile (large) |", "|---|---:|---:|---:|---:|---|"]
    for name, large in results["large"]["queries"].items():
        small = results["small"]["queries"].get(name, {})
        profile = f"[{Path(large['profile']).name}](profiles/{Path(large['profile']).name})" if large.get("profile") else ""
        out.append(f"| {name} | {small.get('queries', '')} | {large['queries']} | {small.get('in_process_ms', '')} | "
                   f"{large['in_process_ms']} | {profile} |")
    out += ["", "## First load (HTML + CSS + JS), large data set", "",
            "| page | HTML bytes | assets | total bytes | gzip bytes | ≤ 150 KB |", "|---|---:|---:|---:|---:|---:|"]
    for name, fl in results["large"]["first_load"].items():
        out.append(f"| {name} | {fl['html']:,} | {fl['assets']} | {fl['bytes']:,} | {fl['gzip_bytes']:,} | "
                   f"{_mark(fl['bytes'] <= BYTES_TARGET)} |")
    misses = [f"- {r['name']}: throughput {r['x_hello']:.2f} × hello (target {r['target']})" for r in rows if not r["ok_throughput"]]
    misses += [f"- {r['name']}: p99 = {r['tail']:.1f} × p50 (target 10)" for r in rows if not r["ok_tail"]]
    misses += [f"- {r['name']}: {r['scale']:.2f} × slower on the large data set (target 1.3)" for r in rows if not r["ok_scale"]]
    misses += [f"- {n}: first load {fl['bytes'] / 1024:.0f} KB (target 150)" for n, fl in results["large"]["first_load"].items()
               if fl["bytes"] > BYTES_TARGET]
    out += ["", "## Targets missed", ""] + (misses or ["None."]) + [""]
    out.append("![throughput as a multiple of hello-world](results.svg)")
    out.append("")
    if ANALYSIS.exists():
        out += ["", ANALYSIS.read_text().strip(), ""]
    return "\n".join(out)


def svg(results: dict) -> str:
    """Horizontal bars: each page's throughput as a multiple of hello-world, small and large,
    with the targets as dashed lines."""
    rows = evaluate(results)
    width, left, right, top, bar, gap = 860, 170, 30, 70, 13, 12
    height = top + len(rows) * (2 * bar + gap) + 50
    top_value = max([0.5] + [r["x_hello"] for r in rows] + [r["x_hello_small"] for r in rows])
    top_value = min(1.2, round(top_value + 0.05, 1))
    plot = width - left - right

    def x(value):
        return left + plot * min(value, top_value) / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">Throughput as a multiple of a hello-world route '
        f'({html.escape(results["database"])}, {results["hello"]["rps"]:.0f} req/s = 1.0)</text>',
        f'<rect x="{left}" y="32" width="12" height="10" fill="#9bbcd9"/><text x="{left + 16}" y="41">1/100 data set</text>',
        f'<rect x="{left + 130}" y="32" width="12" height="10" fill="#1f5f99"/><text x="{left + 146}" y="41">reference street</text>',
    ]
    for value, label, anchor, dx in ((READ_TARGET, "read target 0.25", "start", 3), (WRITE_TARGET, "write target 0.2", "end", -3)):
        parts.append(f'<line x1="{x(value):.1f}" y1="{top - 6}" x2="{x(value):.1f}" y2="{height - 40}" stroke="#c0392b" '
                     'stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x(value) + dx:.1f}" y="{top - 8}" text-anchor="{anchor}" font-size="11" fill="#c0392b">'
                     f'{label}</text>')
    y = top
    for r in rows:
        parts.append(f'<text x="{left - 8}" y="{y + bar + 4}" text-anchor="end">{html.escape(r["name"])}</text>')
        for value, colour in ((r["x_hello_small"], "#9bbcd9"), (r["x_hello"], "#1f5f99")):
            parts.append(f'<rect x="{left}" y="{y}" width="{max(0.5, x(value) - left):.1f}" height="{bar}" fill="{colour}"/>')
            parts.append(f'<text x="{x(value) + 4:.1f}" y="{y + bar - 2}" font-size="11">{value:.2f}</text>')
            y += bar
        y += gap
    for tick in [i / 10 for i in range(0, int(top_value * 10) + 1, 1 if top_value <= 0.6 else 2)]:
        parts.append(f'<line x1="{x(tick):.1f}" y1="{height - 40}" x2="{x(tick):.1f}" y2="{height - 36}" stroke="#333"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 8}" text-anchor="middle" font-size="10">{tick:.1f}</text>')
    parts.append(f'<line x1="{left}" y1="{height - 40}" x2="{width - right}" y2="{height - 40}" stroke="#333"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def write(results: dict, md_path: Path, svg_path: Path) -> None:
    md_path.write_text(markdown(results))
    svg_path.write_text(svg(results))


if __name__ == "__main__":
    import json
    import sys

    source = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results.json"))
    data = json.loads(source.read_text())
    suffix = "-postgresql" if data["database"] != "sqlite" else ""
    write(data, source.with_name(f"results{suffix}.md"), source.with_name(f"results{suffix}.svg"))
