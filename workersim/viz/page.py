"""A history as one self-contained interactive HTML page: the space-time diagram with step-through controls,
hover details (with the checkers' sentence for an operation that is part of a violation) and filters.

Everything is inline (script, style, the diagram and the history's data as JSON), so the file opens offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape

from ..checkers import check_all, check_anomalies
from ..core.cache import EdgeCache
from ..core.rows import AnyRow
from .spacetime import marks, on_lanes, space_time_svg
from .timeline import Arrival


def history_html(
    history: Iterable[AnyRow],
    edges: Sequence[str] | None = None,
    arrival: Arrival | None = None,
    *,
    max_delay: float = 10.0,
    cache: EdgeCache | None = None,
    title: str = "",
    lesson: Sequence[str] = (),
) -> str:
    """The page for ``history`` as HTML text (arguments as for ``space_time_svg``; ``max_delay`` is the bound
    the consistency checkers hold the run to)."""
    rows, lanes = on_lanes(history, edges)
    sentences: dict[int, list[str]] = {}
    for report in check_all(rows, max_delay) + check_anomalies(rows):
        for violation in report.violations:
            for op in violation.ops:
                sentences.setdefault(op, []).append(f"{report.name}: {violation.message}")
    drawn = marks(rows, arrival, cache)
    keys = sorted({mark.key for mark in drawn if mark.key})
    ops = [
        {
            "id": mark.row.id,
            "step": mark.step,
            "t": mark.row.invoke,
            "edge": mark.row.edge,
            "key": mark.key,
            "kind": mark.kind,
            "details": mark.details,
            "violations": sentences.get(mark.row.id, []),
        }
        for mark in drawn
    ]
    data = {"title": title, "edges": lanes, "keys": keys, "ops": ops}
    # Inside <script>, "</script>" (or any "</") would end the element early: JSON allows "<" written as \u003c.
    embedded = json.dumps(data, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    svg = space_time_svg(rows, lanes, arrival, cache=cache, title=title, lesson=lesson)
    options = "".join(f"<option>{escape(name)}</option>" for name in lanes)
    key_options = "".join(f"<option>{escape(name)}</option>" for name in keys)
    return _PAGE.format(
        title=escape(title or "workersim history"),
        svg=svg,
        data=embedded,
        edges=options,
        keys=key_options,
        count=len(ops),
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 12px; }}
#controls {{ display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }}
#diagram {{ overflow-x: auto; border: 1px solid #ddd; }}
#details {{ min-height: 3em; margin-top: 8px; padding: 6px; background: #f6f6f6; white-space: pre-wrap; }}
#details .violation {{ color: #b00; }}
g.op {{ cursor: pointer; }}
.future {{ opacity: 0.12; }}
.filtered {{ display: none; }}
.current > :first-child {{ stroke: #06c; stroke-width: 3; }}
</style>
</head>
<body>
<div id="controls">
<button id="start" title="back to before the first operation">&#9664;&#9664; start</button>
<button id="play">&#9654; play</button>
<button id="pause">&#10074;&#10074; pause</button>
<button id="step" title="the next operation">step &#9654;|</button>
<input id="time" type="range" min="0" max="{count}" value="{count}" step="1" aria-label="time">
<span id="now"></span>
<label>edge <select id="edge-filter"><option value="">all</option>{edges}</select></label>
<label>key <select id="key-filter"><option value="">all</option>{keys}</select></label>
</div>
<div id="diagram">
{svg}</div>
<div id="details">Hover over an operation for its details.</div>
<script type="application/json" id="history-data">{data}</script>
<script>
(function () {{
  const data = JSON.parse(document.getElementById("history-data").textContent);
  const ops = data.ops;
  const marks = new Map();
  const stepOf = new Map(ops.map(function (op, index) {{ return [op.id, index]; }}));
  document.querySelectorAll("g.op").forEach(function (g) {{ marks.set(Number(g.dataset.id), g); }});
  const slider = document.getElementById("time");
  const now = document.getElementById("now");
  const details = document.getElementById("details");
  let shown = ops.length;
  let timer = null;

  function render() {{
    const time = shown > 0 ? ops[shown - 1].t : 0;
    ops.forEach(function (op, index) {{
      const g = marks.get(op.id);
      if (!g) return;
      g.classList.toggle("future", index >= shown);
      g.classList.toggle("current", index === shown - 1);
    }});
    const all = shown === ops.length;
    document.querySelectorAll("text.label, line.saw").forEach(function (el) {{
      el.classList.toggle("future", !all && Number(el.dataset.step) >= shown);
    }});
    document.querySelectorAll("line.arrival, text.arrival-note").forEach(function (el) {{
      const made = stepOf.get(Number(el.dataset.write));
      el.classList.toggle("future", !all && (made >= shown || Number(el.dataset.t) > time));
    }});
    slider.value = shown;
    now.textContent = "step " + shown + "/" + ops.length + " \\u00b7 t = " + time.toFixed(3) + " s";
    now.dataset.time = String(time);
  }}

  function filter() {{
    const edge = document.getElementById("edge-filter").value;
    const key = document.getElementById("key-filter").value;
    ops.forEach(function (op) {{
      const g = marks.get(op.id);
      if (!g) return;
      const keep = (!edge || op.edge === edge) && (!key || op.key === key);
      g.classList.toggle("filtered", !keep);
    }});
    document.querySelectorAll("g.lane").forEach(function (lane) {{
      lane.style.opacity = !edge || lane.dataset.edge === edge ? 1 : 0.3;
    }});
  }}

  function step() {{
    if (shown < ops.length) {{ shown += 1; render(); }} else {{ pause(); }}
  }}
  function pause() {{ if (timer !== null) {{ clearInterval(timer); timer = null; }} }}

  document.getElementById("start").addEventListener("click", function () {{ pause(); shown = 0; render(); }});
  document.getElementById("step").addEventListener("click", function () {{ pause(); step(); }});
  document.getElementById("pause").addEventListener("click", pause);
  document.getElementById("play").addEventListener("click", function () {{
    if (shown >= ops.length) shown = 0;
    pause();
    timer = setInterval(step, 600);
    render();
  }});
  slider.addEventListener("input", function () {{ pause(); shown = Number(slider.value); render(); }});
  document.getElementById("edge-filter").addEventListener("change", filter);
  document.getElementById("key-filter").addEventListener("change", filter);
  ops.forEach(function (op) {{
    const g = marks.get(op.id);
    if (!g) return;
    g.addEventListener("mouseenter", function () {{
      details.textContent = op.details;
      op.violations.forEach(function (sentence) {{
        const line = document.createElement("div");
        line.className = "violation";
        line.textContent = sentence;
        details.appendChild(line);
      }});
    }});
  }});
  render();
}})();
</script>
</body>
</html>
"""
