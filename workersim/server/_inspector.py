"""The inspector page of ``workersim dev`` (``/__workersim/``): every namespace's keys side by side across the
edges, with the version each edge holds, which edges are behind and when the newest write reaches them; the
space-time view of recent operations; and buttons for partition, heal, faults and time advance.

Plain HTML and a little JavaScript, served by the app (nothing from a CDN). The page polls
``/__workersim/state`` and posts to the control endpoints (``workersim.server._control``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Any

from ..core.rows import CENTRAL_EDGE, KVRejected, KVWrite
from ..core.versions import Version
from ..runtime import Simulation
from ..sim.simulation import engine
from ..viz import space_time_svg

KEYS_SHOWN = 200
"""Keys shown per namespace (the first, in key order)."""
RECENT_ROWS = 80
"""Operations drawn in the space-time view (the newest)."""
_PREVIEW = 40


def _version(version: Version | None) -> dict[str, Any] | None:
    if version is None:
        return None
    if version.value is None:
        return {"seq": version.seq, "deleted": True}
    text = version.value[:_PREVIEW].decode("utf-8", "replace")
    return {"seq": version.seq, "value": text + ("…" if len(version.value) > _PREVIEW else "")}


def inspector_state(sim: Simulation, now: int, titles: Mapping[str, str]) -> dict[str, Any]:
    """Every namespace's keys at ``now``: the newest version, and per edge the version it holds, whether it is
    behind, and when the newest reaches it (``null`` while a partition holds it back). A namespace is shown by its
    title in ``titles`` (keyspace -> title: the REST API's namespaces), else by its binding name. Reads nothing
    into the history."""
    cluster = engine(sim).store.cluster
    namespaces = []
    for name in sorted(cluster.namespaces):
        space = cluster.namespaces[name]
        keys = []
        for key in heapq.nsmallest(KEYS_SHOWN, space.keys()):
            newest = space.read(key, None, now)
            if newest is None:
                continue
            edges = {}
            for index, edge in enumerate(sim.edges):
                held = space.read(key, index, now)
                behind = held is None or held.seq != newest.seq
                arrival = cluster.arrival(newest, index) if behind else None
                edges[edge] = {
                    "version": _version(held),
                    "behind": behind,
                    "arrives": None if arrival is None else arrival / 1000,
                }
            keys.append({"key": key, "newest": _version(newest), "edges": edges})
        namespaces.append({"name": titles.get(name, name), "keys": keys, "count": len(space)})
    return {"namespaces": namespaces}


def space_time(sim: Simulation) -> str:
    """The space-time diagram of the newest operations, with each write's arrivals at the other edges."""
    rows = [row for row in sim.history.rows[-RECENT_ROWS:] if not isinstance(row, KVRejected)]
    central = [CENTRAL_EDGE] if any(row.edge == CENTRAL_EDGE for row in rows) else []
    return space_time_svg(rows, [*sim.edges, *central], _arrival(sim))


def _arrival(sim: Simulation) -> Callable[[KVWrite, str], float | None]:
    # The central store holds every write at once: there is nothing to draw for it.
    def arrival(write: KVWrite, edge: str) -> float | None:
        return None if edge == CENTRAL_EDGE else sim.arrival(write, edge)

    return arrival


def page() -> bytes:
    """The inspector's HTML."""
    return PAGE.encode("utf-8")


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>workersim inspector</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .5em; }
#status { margin: .5em 0 1em; }
fieldset { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; border: 1px solid #ccc; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; font-size: .9em; text-align: left; }
td.current { background: #e6f4e6; }
td.behind { background: #fdebd0; }
td.held { background: #f8d7da; }
.cut { color: #b00; font-weight: bold; }
small { color: #666; }
</style>
</head>
<body>
<h1>workersim inspector</h1>
<div id="status">loading…</div>
<fieldset><legend>Partition</legend>
  <span id="edge-boxes"></span>
  <button id="partition">Partition selected</button>
  <button id="heal">Heal all</button>
</fieldset>
<fieldset><legend>Faults</legend>
  <label><input type="checkbox" id="fault-rate_limit"> write rate limit (429)</label>
  <label><input type="checkbox" id="fault-outage"> central store outage (503)</label>
</fieldset>
<fieldset><legend>Time</legend>
  <input id="seconds" type="number" min="0" value="10" style="width: 6em"> s
  <button id="advance">Advance</button>
</fieldset>
<div id="message"></div>
<div id="namespaces"></div>
<h2 style="font-size: 1.1em">Recent operations</h2>
<img id="spacetime" alt="space-time diagram of recent operations">
<script>
"use strict";
const base = "/__workersim/";
let edgesShown = "";

function text(tag, content, attributes) {
  const element = document.createElement(tag);
  if (content !== undefined) element.textContent = content;
  for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, value);
  return element;
}

function shown(version) {
  if (version === null) return "nothing";
  return "v" + version.seq + " " + (version.deleted ? "(deleted)" : JSON.stringify(version.value));
}

function render(state) {
  const cut = state.cut_off.length ? state.cut_off.join(", ") + " cut off" : "no partition";
  const faults = Object.entries(state.faults).filter(([, on]) => on).map(([name]) => name);
  const status = document.getElementById("status");
  status.textContent = "";
  status.append("t = " + state.now.toFixed(3) + " s · edges " + state.edges.join(", ") + " · ");
  status.append(text("span", cut, {class: state.cut_off.length ? "cut" : "", id: "cut-off"}));
  status.append(" · faults: " + (faults.length ? faults.join(", ") : "none"));
  if (edgesShown !== state.edges.join(",")) {
    edgesShown = state.edges.join(",");
    const boxes = document.getElementById("edge-boxes");
    boxes.textContent = "";
    for (const edge of state.edges) {
      const label = text("label");
      label.append(text("input", undefined, {type: "checkbox", value: edge, id: "edge-" + edge}), edge + " ");
      boxes.append(label);
    }
  }
  for (const [name, on] of Object.entries(state.faults)) document.getElementById("fault-" + name).checked = on;
  const holder = document.getElementById("namespaces");
  holder.textContent = "";
  for (const namespace of state.namespaces) {
    holder.append(text("h2", namespace.name + " (" + namespace.count + " keys)", {style: "font-size: 1.1em"}));
    const table = text("table", undefined, {"data-namespace": namespace.name});
    const head = text("tr");
    head.append(text("th", "key"), text("th", "newest"));
    for (const edge of state.edges) head.append(text("th", edge));
    table.append(head);
    for (const entry of namespace.keys) {
      const row = text("tr");
      row.append(text("td", entry.key), text("td", shown(entry.newest)));
      for (const edge of state.edges) {
        const held = entry.edges[edge];
        const kind = !held.behind ? "current" : held.arrives === null ? "held" : "behind";
        const cell = text("td", shown(held.version), {class: kind, "data-edge": edge, "data-key": entry.key});
        if (held.behind) {
          const when = held.arrives === null ? "held by a partition" : "newest arrives at t = " + held.arrives + " s";
          cell.append(text("br"), text("small", "behind: " + when));
        }
        row.append(cell);
      }
      table.append(row);
    }
    holder.append(table);
  }
  document.getElementById("spacetime").src = base + "spacetime.svg?at=" + state.now;
}

async function refresh() {
  const response = await fetch(base + "state");
  if (response.ok) render(await response.json());
}

async function act(name, query) {
  const response = await fetch(base + name + "?" + new URLSearchParams(query), {method: "POST"});
  document.getElementById("message").textContent = response.ok ? "" : await response.text();
  await refresh();
}

document.getElementById("partition").onclick = () => {
  const chosen = [...document.querySelectorAll("#edge-boxes input:checked")].map((box) => box.value);
  act("partition", {edges: chosen.join(",")});
};
document.getElementById("heal").onclick = () => act("heal", {});
document.getElementById("advance").onclick = () => act("advance", {seconds: document.getElementById("seconds").value});
for (const name of ["rate_limit", "outage"]) {
  const box = document.getElementById("fault-" + name);
  box.onchange = () => act("faults", {[name]: box.checked ? "on" : "off"});
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""
