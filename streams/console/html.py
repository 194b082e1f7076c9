"""HTML building blocks of the console: the page frame, tables, forms and server-drawn SVG bar charts.

Every value is escaped here (``esc``); callers pass plain strings. The stylesheet is inline (the guard's
Content-Security-Policy allows inline styles, never scripts) and readable from a phone to 1280 px.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

STYLE = """
*{box-sizing:border-box}body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
a{color:#0b4f9c}a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #f5a623;
outline-offset:2px}.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
header{background:#123f6d;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;font-weight:600}header form{margin-left:auto}main{max-width:1240px;margin:0 auto;padding:1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.6rem}.cards{display:flex;flex-wrap:wrap;gap:.8rem}
.card{background:#fff;border:1px solid #ccd;border-radius:6px;padding:.6rem .9rem;min-width:10rem;flex:1;
overflow-wrap:anywhere}
.card b{display:block;font-size:1.4rem}.ok{color:#17692b}.bad{color:#a3161b}.wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #dde;padding:.35rem .5rem;
text-align:left;vertical-align:top}th{background:#eef2f7}pre{white-space:pre-wrap;word-break:break-all;
font-size:.85rem;background:#f3f3f3;padding:.5rem}button{font:inherit;padding:.35rem .9rem;cursor:pointer}
.danger{background:#a3161b;color:#fff;border:0;border-radius:4px}.note{background:#fff8d6;padding:.5rem;
border:1px solid #e6d47a}form.inline{display:inline}label{margin-right:.4rem}
input,select{font:inherit;padding:.25rem}svg text{font:13px system-ui,sans-serif}
@media (max-width:600px){th,td{font-size:.85rem}header form{margin-left:0}}
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, *, user: str = "", role: str = "", csrf: str = "") -> str:
    nav = ""
    if user:
        nav = ('<nav aria-label="Console"><a href="/console/">Overview</a> · <a href="/console/errors">Error log</a>'
               ' · <a href="/console/why">Why?</a>'
               ' · <a href="/console/resync">Resync preview</a> · <a href="/console/audit">Audit trail</a></nav>'
               f'<span>{esc(user)} ({esc(role)})</span>'
               f'<form method="post" action="/console/logout">{hidden("csrf", csrf)}'
               '<button type="submit">Sign out</button></form>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<title>{esc(title)} · edfi-stream</title><style>{STYLE}</style></head><body>'
            f'<a class="skip" href="#main">Skip to content</a><header><strong>edfi-stream</strong>{nav}</header>'
            f'<main id="main"><h1>{esc(title)}</h1>{body}</main></body></html>')


def hidden(name: str, value: object) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = "", raw: bool = False) -> str:
    """A table; cells are escaped unless ``raw`` (cells already built from escaped parts)."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<div class="wrap"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def cards(items: Iterable[tuple[str, str, str]]) -> str:
    """(label, value, css class) cards."""
    return '<div class="cards">' + "".join(
        f'<div class="card">{esc(label)}<b class="{esc(cls)}">{esc(value)}</b></div>' for label, value, cls in items
    ) + "</div>"


def bar_chart(title: str, items: Sequence[tuple[str, float]], *, width: int = 620) -> str:
    """A horizontal bar chart as inline SVG (with a title and per-bar labels for screen readers)."""
    if not items:
        return f"<p>{esc(title)}: nothing yet.</p>"
    bar_h, gap, label_w = 22, 6, 250
    top = max(v for _, v in items) or 1
    height = len(items) * (bar_h + gap) + gap
    bars = []
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar_h + gap)
        w = max(1, int((width - label_w - 70) * value / top))
        short = label if len(label) <= 32 else label[:31] + "…"
        bars.append(f'<g><title>{esc(label)}: {value:g}</title>'
                    f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{esc(short)}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#2f6db3"/>'
                    f'<text x="{label_w + w + 6}" y="{y + 15}">{value:g}</text></g>')
    return (f'<figure><figcaption>{esc(title)}</figcaption><svg role="img" aria-label="{esc(title)}" '
            f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px">{"".join(bars)}</svg></figure>')
