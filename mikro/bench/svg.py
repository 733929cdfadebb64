"""Line charts as SVG text: log x axis, linear y axis from 0, axis labels, a legend.

Written by hand so the suite needs no plotting library; the output is plain XML.
"""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

W, H = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 72, 180, 40, 56
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


def _nice_max(v: float) -> float:
    """A round number >= v for the top of the y axis."""
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v:
            return m * e
    return 10 * e


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) < 0.01:
        return f"{v:.3g}"
    return f"{v:g}" if v == int(v) else f"{v:.3g}"


def line_chart(title: str, xlabel: str, ylabel: str,
               series: dict[str, list[tuple[float, float]]], thin: frozenset[str] = frozenset()) -> str:
    """An SVG document: one polyline with markers per series (dashed, without markers, for
    the series named in `thin`); x values must be > 0."""
    pts = [(x, y) for s in series.values() for x, y in s if x > 0 and math.isfinite(y)]
    xs = [x for x, _ in pts] or [1.0, 10.0]
    lo, hi = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    if hi == lo:
        hi = lo + 1
    ymax = _nice_max(max((y for _, y in pts), default=1.0))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (math.log10(x) - lo) / (hi - lo) * pw

    def py(y: float) -> float:
        return TOP + ph - y / ymax * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT + pw / 2}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>']
    for d in range(lo, hi + 1):                      # decades: grid line and label
        x = px(10 ** d)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" text-anchor="middle">10<tspan '
                   f'dy="-5" font-size="9">{d}</tspan></text>')
    for k in range(6):                               # y ticks
        v = ymax * k / 5
        y = py(v)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 14}" text-anchor="middle">{escape(xlabel)} (log scale)</text>')
    out.append(f'<text transform="translate(18 {TOP + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(ylabel)}</text>')
    for i, (name, s) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        stroke = (f'stroke="{color}" stroke-width="1" stroke-dasharray="4 3"' if name in thin
                  else f'stroke="{color}" stroke-width="2"')
        good = [(px(x), py(y)) for x, y in sorted(s) if x > 0 and math.isfinite(y)]
        if good:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in good)
            out.append(f'<polyline points="{path}" fill="none" {stroke}/>')
            if name not in thin:
                out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in good]
        ly = TOP + 10 + 20 * i                       # legend entry
        out.append(f'<line x1="{LEFT + pw + 14}" y1="{ly}" x2="{LEFT + pw + 34}" y2="{ly}" {stroke}/>')
        out.append(f'<text x="{LEFT + pw + 40}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def bar_chart(title: str, xlabel: str, bars: list[tuple[str, float]]) -> str:
    """Horizontal bars on a log axis (values > 0), one per label, the value written beside."""
    bars = [(label, v) for label, v in bars if v > 0 and math.isfinite(v)]
    left, right, top, row = 230, 90, 40, 24
    h = top + row * max(len(bars), 1) + 50
    pw = W - left - right
    vals = [v for _, v in bars] or [1.0, 10.0]
    lo, hi = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals)))
    if hi == lo:
        hi = lo + 1

    def px(v: float) -> float:
        return left + (math.log10(v) - lo) / (hi - lo) * pw

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" '
           f'viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{h}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>']
    base = top + row * len(bars)
    for d in range(lo, hi + 1):
        x = px(10 ** d)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{base}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">10<tspan '
                   f'dy="-5" font-size="9">{d}</tspan></text>')
    for i, (label, v) in enumerate(bars):
        y = top + row * i
        color = COLORS[0] if label.startswith("mikro") else "#999"
        out.append(f'<rect x="{left}" y="{y + 4}" width="{max(px(v) - left, 1):.1f}" height="{row - 8}" '
                   f'fill="{color}"/>')
        out.append(f'<text x="{left - 6}" y="{y + row / 2 + 4}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<text x="{px(v) + 4:.1f}" y="{y + row / 2 + 4}">{_fmt(v)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 12}" text-anchor="middle">{escape(xlabel)} (log scale)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
