"""Audit exports: CSV for spreadsheets, and one self-contained HTML page for people.

The page has a section per brand: a bar chart of share of shelf per keyword and persona (the
best rank written on each bar) and a table; with a base run, every cell shows its deltas, green
where the brand moved up and red where it fell. No scripts or external assets: the file works
offline and can be mailed, and the HTTP route serves it under a policy that allows its one
stylesheet (`STYLE_HASH`) and nothing else.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Mapping
from html import escape
from typing import Any

CSV_COLUMNS = ["brand", "keyword", "persona", "zone_shown", "zone_brand", "zone_won", "best_rank", "top10", "topk",
               "share", "ranks", "ids", "results", "index_version", "time"]
PALETTE = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2"]
STYLE = ("body{font:14px system-ui,sans-serif;margin:24px;color:#111}h2{margin-top:32px}"
         "table{border-collapse:collapse;margin-top:8px}td,th{border-bottom:1px solid #ddd;padding:4px 10px;"
         "text-align:left}th{background:#f3f4f6}.up{color:#047857;font-weight:600}.down{color:#b91c1c;"
         "font-weight:600}.chart text{font-size:12px}.chart .small{font-size:11px;fill:#374151}")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
"""The page's only inline stylesheet, as a Content-Security-Policy source (the page needs nothing else)."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run a cell starting with these as a formula (OWASP's CSV injection list)."""


def to_csv(run: Mapping[str, Any]) -> str:
    """One row a cell; lists are space-separated; text that a spreadsheet would run stays text.

    Text cells are quoted too: a spreadsheet that splits on `;` would otherwise start a new cell,
    possibly a formula, inside a keyword such as `x;=1+1`.
    """
    out = io.StringIO()
    csv.writer(out).writerow(CSV_COLUMNS)
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", quoting=csv.QUOTE_NONNUMERIC)
    for cell in run["cells"]:
        row = {**cell, "ranks": " ".join(map(str, cell["ranks"])), "ids": " ".join(cell["ids"])}
        writer.writerow({name: _inert(value) for name, value in row.items()})
    return out.getvalue()


def _inert(value: Any) -> Any:
    """A keyword like `=HYPERLINK("http://evil.example","x")` is shown, not run: `'` in front (OWASP)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _delta(value: int | float | None, better_when_lower: bool, fmt: str = "{:+d}") -> str:
    if value is None or value == 0:
        return ""
    good = value < 0 if better_when_lower else value > 0
    return f' <span class="{"up" if good else "down"}">{escape(fmt.format(value))}</span>'


def _share_delta(cell: Mapping[str, Any], old: Mapping[str, Any] | None) -> str:
    return _delta(round(cell["share"] - old["share"], 4), False, "{:+.0%}") if old else ""


def _chart(cells: list[Mapping[str, Any]], personas: list[str], top_k: int) -> str:
    keywords = list(dict.fromkeys(c["keyword"] for c in cells))
    by = {(c["keyword"], c["persona"]): c for c in cells}
    bar_h, gap, label_w, width = 14, 10, 150, 420
    group_h = bar_h * len(personas) + gap
    height = group_h * len(keywords) + 30
    parts = [f'<svg class="chart" width="{label_w + width + 80}" height="{height}" role="img" '
             f'aria-label="share of the top {top_k} by keyword and persona">']
    for gi, keyword in enumerate(keywords):
        y0 = gi * group_h
        parts.append(f'<text x="{label_w - 6}" y="{y0 + group_h / 2}" text-anchor="end" '
                     f'dominant-baseline="middle">{escape(keyword)}</text>')
        for pi, persona in enumerate(personas):
            cell = by.get((keyword, persona))
            if cell is None:
                continue
            y = y0 + pi * bar_h
            w = max(1.0, width * float(cell["share"]))
            rank = f'#{cell["best_rank"]}' if cell["best_rank"] else "absent"
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{PALETTE[pi % len(PALETTE)]}"><title>{escape(persona)}: share '
                         f'{cell["share"]:.0%}, best rank {rank}</title></rect>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h / 2}" dominant-baseline="middle" '
                         f'class="small">{cell["share"]:.0%} · {rank}</text>')
    legend_y = height - 12
    for pi, persona in enumerate(personas):
        x = label_w + pi * 130
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{PALETTE[pi % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{legend_y}" class="small">{escape(persona)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(run: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> str:
    """The report page; with `base`, deltas against that run are shown and highlighted."""
    personas = [p["label"] for p in run["personas"]]
    before = {(c["brand"], c["keyword"], c["persona"]): c for c in (base or {}).get("cells", [])}
    title = f'Brand-keyword audit {escape(run["id"])}' + (f' — {escape(run["name"])}' if run.get("name") else "")
    head = [f"<h1>{title}</h1>",
            f'<p>{escape(run["created"])} · index {escape(", ".join(run["index_versions"]))} · top {run["top_k"]} · '
            f'{run["done"]} cells · personas: {escape(", ".join(personas))}'
            + (f' · compared with <b>{escape(base["id"])}</b> (index {escape(", ".join(base["index_versions"]))})'
               if base else "") + "</p>"]
    sections = []
    for brand in run["brands"]:
        cells = [c for c in run["cells"] if c["brand"] == brand]
        rows = []
        for c in cells:
            old = before.get((c["brand"], c["keyword"], c["persona"]))
            rank_delta = (c["best_rank"] - old["best_rank"]) if old and old["best_rank"] and c["best_rank"] else None
            moved = ""
            if old and old["best_rank"] is None and c["best_rank"] is not None:
                moved = ' <span class="up">new</span>'
            elif old and old["best_rank"] is not None and c["best_rank"] is None:
                moved = ' <span class="down">gone</span>'
            zone = (("✓ " if c["zone_won"] else "") + escape(c["zone_brand"])) if c["zone_shown"] else "–"
            rows.append(
                f'<tr><td>{escape(c["keyword"])}</td><td>{escape(c["persona"])}</td><td>{zone}</td>'
                f'<td>{c["best_rank"] or "–"}{_delta(rank_delta, True)}{moved}</td>'
                f'<td>{c["top10"]}{_delta(c["top10"] - old["top10"], False) if old else ""}</td>'
                f'<td>{c["topk"]}</td>'
                f'<td>{c["share"]:.0%}{_share_delta(c, old)}</td>'
                "</tr>")
        sections.append(
            f"<section><h2>{escape(brand)}</h2>{_chart(cells, personas, run['top_k'])}"
            "<table><thead><tr><th>keyword</th><th>persona</th><th>brand zone</th><th>best rank</th>"
            f"<th>in top 10</th><th>in top {run['top_k']}</th><th>share of shelf</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></section>")
    return (f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(head)}{''.join(sections)}</body></html>")
