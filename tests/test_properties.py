"""The replicated store against a reference model built from the test's own plan (hypothesis).

Each example plans concurrent tasks that act at chosen virtual instants at chosen edges (binding calls) or at the
central store (REST calls through the in-process ASGI app), network partitions and heals, and the delay of every
write to every edge (``PlannedDelay``: a table the test draws, so it knows when each write reaches each edge).
The model in this file computes, from that plan and the documented rules alone, what every call must return; the
test then compares what the awaited calls really returned. Nothing the simulation recorded (no ``version`` id,
no history row) feeds the oracle.

The documented rules the model encodes (docs/design.md, core/versions.py, core/partitions.py, core/cache.py,
shared/reference/kv-semantics.md):

- Writes are numbered in the order they are applied (``Version.seq``), and the newest write wins (last writer
  wins by that order). A delete is a write.
- Calls at one virtual instant are applied in rounds: each round applies the next call of every task still acting
  at that instant, in task-identity order, which for tasks spawned by one task is their spawn order. That fixes
  the order of concurrent calls by design, so the model knows every write's number and every read's position.
- A write is visible at its own edge at once and reaches edge X at ``time + delay(write, X)``. A partition puts
  the cut-off edges in a group of their own; a write reaches an edge at the first moment at or after its nominal
  arrival when the two are in one group. The central store (where REST calls act) holds every write at once
  (README, "REST API": "REST reads answer from the central store, which holds every write at once"), even one
  made at an edge a partition cuts off.
- A read answers the newest write that has reached its place, or nothing if that write is a delete or has expired
  (expiration is absolute UNIX seconds, live while ``expiration * 1000 > now``).
- ``list`` gives the live keys with the prefix after the cursor's key, in code-point order, ``limit`` at a time;
  ``list_complete`` is false exactly when another live key follows.
- Under the edge-cache model, a write goes to the central store and to the writer's cache; a read answers from
  the edge's cache while the entry is younger than ``cacheTtl`` (``default_ttl`` when not given), else fetches
  from the central store and caches the answer, a miss included. A fetch or a write at an edge cut off from the
  central store fails with a 503. ``list`` answers from the central store.

Partition events happen at instants of their own (half a second off the calls' whole seconds), so no call shares
an instant with one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import trio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import workersim
from workersim.server.rest import RestApp, binding_namespace_id

EDGE_NAMES = ("SFO", "LHR", "NRT", "SIN")
KEYS = ("a", "ab", "b")
PREFIXES = ("", "a", "b")
CENTRAL = -1
NAMESPACE = "KV"
REST_NS = binding_namespace_id(NAMESPACE)
START_MS = workersim.Simulation().start_time * 1000
FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no explain phase: it costs most of a failure's time
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the plan ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Call:
    """One planned call. ``edge`` is an edge's index, or ``CENTRAL`` for a REST call."""

    kind: str  # put, delete, get, list
    edge: int
    key: str = ""
    value: str = ""
    ttl: int | None = None
    """expirationTtl of a put, in seconds."""
    cache_ttl: int | None = None
    """cacheTtl of a get, in seconds."""
    prefix: str = ""
    limit: int = 1000


@attrs.frozen(kw_only=True)
class Plan:
    """Everything the test decides: edges, tasks' calls at their instants, partitions, delays, the cache model."""

    edges: tuple[str, ...]
    max_ms: int
    tasks: tuple[tuple[tuple[int, Call], ...], ...]
    """Per task, its calls with their virtual times (ms), one call per instant, in time order."""
    network: tuple[tuple[int, str, tuple[int, ...]], ...]
    """(time, "partition" or "heal", edge indexes), at distinct instants off the calls' instants."""
    delays: tuple[tuple[int, ...], ...]
    """delays[n - 1][x]: milliseconds that write number n takes to reach edge x."""
    cache_ttl: int | None = None
    """The edge-cache model's default_ttl, or None for push propagation."""

    def end(self) -> int:
        """After every call and network event."""
        times = [at for task in self.tasks for at, _ in task] + [at for at, _, _ in self.network] + [0]
        return max(times) // 1000 * 1000 + 1000


@attrs.frozen
class PlannedDelay:
    """A delay model that looks each write's delay up in the plan's table, by the write's number."""

    table: tuple[tuple[int, ...], ...]
    edges: tuple[str, ...]
    max_ms: int

    def bound(self) -> float | None:
        """The table's cap."""
        return self.max_ms / 1000

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """Never used: the simulation calls ``delay_for`` when a model has it."""
        raise AssertionError("the simulation must name the write it times")

    def delay_for(self, seq: int, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """The planned delay of write number ``seq`` to ``destination``."""
        assert 1 <= seq <= len(self.table), f"write #{seq} was not planned ({len(self.table)} writes were)"
        return self.table[seq - 1][self.edges.index(destination)]


def calls(edges: int, rest: bool, cache: bool) -> st.SearchStrategy[Call]:
    places = st.integers(0, edges - 1)
    if rest:
        places = st.one_of(places, st.just(CENTRAL))
    key = st.sampled_from(KEYS)
    ttl = st.one_of(st.none(), st.none(), st.sampled_from([60, 90]), st.integers(60, 90))
    put = st.builds(Call, kind=st.just("put"), edge=places, key=key, ttl=ttl)
    return st.one_of(
        put,
        put,
        st.builds(Call, kind=st.just("delete"), edge=places, key=key),
        st.builds(
            Call,
            kind=st.just("get"),
            edge=places,
            key=key,
            cache_ttl=st.sampled_from([None, 30, 60]) if cache else st.none(),
        ),
        st.builds(Call, kind=st.just("list"), edge=places, prefix=st.sampled_from(PREFIXES), limit=st.integers(1, 2)),
    )


@st.composite
def plans(draw: st.DrawFn, *, rest: bool = False, cache: bool = False) -> Plan:
    edges = EDGE_NAMES[: draw(st.integers(2, len(EDGE_NAMES)))]
    max_ms = draw(st.sampled_from([0, 1000, 5000]))
    # A few shared instants, so that tasks often act at the same one. They lie on a grid up to 100 s (5 s; 15 s for
    # the cache model), so that arrivals (delays of 0 and 5 s are drawn often), cache entries' ages (30 and 60 s)
    # and expiries (60 and 90 s) often fall exactly on a later instant: the boundaries get tested.
    step = 15 if cache else 5
    grid = st.integers(0, 100 // step).map(lambda i: i * step)
    instants = draw(st.lists(grid, min_size=3, max_size=10, unique=True))
    tasks = []
    for _ in range(draw(st.integers(2, 4))):
        times = draw(st.lists(st.sampled_from(instants), min_size=2, max_size=8, unique=True))
        tasks.append(tuple((at * 1000, draw(calls(len(edges), rest, cache))) for at in sorted(times)))
    network: list[tuple[int, str, tuple[int, ...]]] = []
    for at in sorted(draw(st.lists(st.integers(0, 100), max_size=3, unique=True))):
        cut = draw(st.lists(st.integers(0, len(edges) - 1), min_size=1, max_size=len(edges) - 1, unique=True))
        action = draw(st.sampled_from(["partition", "heal"]))
        network.append((at * 1000 + 500, action, tuple(sorted(cut))))
    writes = sum(call.kind in ("put", "delete") for task in tasks for _, call in task)
    delay = st.one_of(st.sampled_from([0, max_ms]), st.integers(0, max_ms))
    row = st.lists(delay, min_size=len(edges), max_size=len(edges)).map(tuple)
    delays = draw(st.lists(row, min_size=writes, max_size=writes).map(tuple))
    numbered = tuple(
        tuple((at, attrs.evolve(call, value=f"t{t}s{s}")) for s, (at, call) in enumerate(task))
        for t, task in enumerate(tasks)
    )
    return Plan(
        edges=edges,
        max_ms=max_ms,
        tasks=numbered,
        network=tuple(network),
        delays=delays,
        cache_ttl=draw(st.sampled_from([30, 60])) if cache else None,
    )


# --- the model -----------------------------------------------------------------------------------------------


@attrs.frozen
class Write:
    seq: int
    time: int
    origin: int
    key: str
    value: str | None
    expiration: int | None


Outcome = Any
"""What a call returned, in a comparable shape: a value or None; a list page (names, expirations, complete);
("error", message) for a call that raised; True for a write that succeeded."""


@attrs.define
class Model:
    """The reference model: the plan's writes, partitions and caches, replayed by the documented rules."""

    plan: Plan
    writes: list[Write] = attrs.field(factory=list)
    groups: dict[int, list[tuple[int, int]]] = attrs.field(factory=dict)
    """Per edge, (time, group) changes; group 0 is the main group, which holds the central store."""
    caches: dict[tuple[int, str], tuple[Write | None, int]] = attrs.field(factory=dict)
    next_group: int = 1

    def network(self, at: int, action: str, edges: tuple[int, ...]) -> None:
        group = 0
        if action == "partition":
            group, self.next_group = self.next_group, self.next_group + 1
        for edge in edges:
            self.groups.setdefault(edge, []).append((at, group))

    def group(self, place: int, at: int) -> int:
        current = 0
        for time, group in self.groups.get(place, []):
            if time <= at:
                current = group
        return current

    def cut(self, edge: int, at: int) -> bool:
        return self.group(edge, at) != 0

    def arrival(self, write: Write, place: int) -> int | None:
        if place in (write.origin, CENTRAL):
            return write.time
        nominal = write.time + self.plan.delays[write.seq - 1][place]
        changes = [t for p in (write.origin, place) for t, _ in self.groups.get(p, []) if t > nominal]
        for at in [nominal, *sorted(changes)]:
            if self.group(write.origin, at) == self.group(place, at):
                return at
        return None

    def seen(self, key: str, place: int, now: int) -> Write | None:
        """The newest write of ``key`` that has reached ``place`` by ``now``."""
        for write in reversed(self.writes):
            if write.key == key:
                at = self.arrival(write, place)
                if at is not None and at <= now:
                    return write
        return None

    @staticmethod
    def live(write: Write | None, now: int) -> str | None:
        if write is None or write.value is None:
            return None
        if write.expiration is not None and write.expiration * 1000 <= START_MS + now:
            return None
        return write.value

    def central(self, key: str) -> Write | None:
        return next((w for w in reversed(self.writes) if w.key == key), None)

    def read(self, call: Call, now: int) -> Outcome:
        if self.plan.cache_ttl is None or call.edge == CENTRAL:
            seen = self.seen(call.key, call.edge, now) if self.plan.cache_ttl is None else self.central(call.key)
            return self.live(seen, now)
        ttl = self.plan.cache_ttl if call.cache_ttl is None else call.cache_ttl
        entry = self.caches.get((call.edge, call.key))
        if entry is not None and now - entry[1] < ttl * 1000:
            return self.live(entry[0], now)
        if self.cut(call.edge, now):
            return ("error", "KV GET failed: 503 Service Unavailable")
        fetched = self.central(call.key)
        self.caches[call.edge, call.key] = (fetched, now)
        return self.live(fetched, now)

    def write(self, call: Call, now: int) -> Outcome:
        if self.plan.cache_ttl is not None and call.edge != CENTRAL and self.cut(call.edge, now):
            method = "PUT" if call.kind == "put" else "DELETE"
            return ("error", f"KV {method} failed: 503 Service Unavailable")
        expiration = None if call.ttl is None else (START_MS + now) // 1000 + call.ttl
        value = call.value if call.kind == "put" else None
        write = Write(len(self.writes) + 1, now, call.edge, call.key, value, expiration)
        self.writes.append(write)
        if self.plan.cache_ttl is not None and call.edge != CENTRAL:
            self.caches[call.edge, call.key] = (write, now)
        return True

    def page(self, call: Call, after: str | None, now: int) -> tuple[tuple[tuple[str, int | None], ...], bool]:
        found = []
        for key in sorted({w.key for w in self.writes}):
            if key.startswith(call.prefix) and (after is None or key > after):
                # Under the edge-cache model a list answers from the central store.
                seen = self.seen(key, call.edge, now) if self.plan.cache_ttl is None else self.central(key)
                if seen is not None and self.live(seen, now) is not None:
                    found.append((key, seen.expiration))
        return tuple(found[: call.limit]), len(found) <= call.limit

    def pages(self, call: Call, now: int) -> Iterator[Outcome]:
        """Every page of a list walked to its end with cursors, one page per round."""
        after = None
        while True:
            names, complete = self.page(call, after, now)
            yield (names, complete)
            if complete:
                return
            after = names[-1][0]

    def steps(self, call: Call, now: int) -> Iterator[Outcome]:
        """The outcomes of one planned call, one per store operation it makes (a list: one per page)."""
        if call.kind == "list":
            yield from self.pages(call, now)
        elif call.kind == "get":
            yield self.read(call, now)
        else:
            yield self.write(call, now)


def expected(plan: Plan, final: list[Call]) -> dict[tuple[int, int], list[Outcome]]:
    """What every call must return, keyed by (task, step); the final reads are task -1."""
    model = Model(plan)
    by_instant: dict[int, list[tuple[int, int, Call]]] = {}
    for t, task in enumerate(plan.tasks):
        for s, (at, call) in enumerate(task):
            by_instant.setdefault(at, []).append((t, s, call))
    outcomes: dict[tuple[int, int], list[Outcome]] = {}

    def instant(at: int, acting: list[tuple[int, int, Call]]) -> None:
        running = [((t, s), model.steps(call, at)) for t, s, call in acting]
        while running:  # one round: the next operation of every task still acting, in task order
            still = []
            for slot, steps in running:
                outcome = next(steps, StopIteration)
                if outcome is not StopIteration:
                    outcomes.setdefault(slot, []).append(outcome)
                    still.append((slot, steps))
            running = still

    events = sorted(
        [(at, 0, (action, edges)) for at, action, edges in plan.network] + [(at, 1, ()) for at in by_instant]
    )
    for at, is_calls, payload in events:
        if is_calls:
            instant(at, by_instant[at])
        else:
            model.network(at, *payload)
    settled = final_time(plan)
    model.network(plan.end() + 500, "heal", tuple(range(len(plan.edges))))
    instant(settled, [(-1, i, call) for i, call in enumerate(final)])
    return outcomes


def final_time(plan: Plan) -> int:
    """When everything has landed everywhere: every partition healed, then max_delay (and every cache) passed."""
    return plan.end() + 1000 + max(plan.max_ms, (plan.cache_ttl or 0) * 1000, 60_000)


def final_calls(plan: Plan, rest: bool) -> list[Call]:
    places = [*range(len(plan.edges)), *([CENTRAL] if rest else [])]
    reads = [Call(kind="get", edge=place, key=key) for place in places for key in KEYS]
    return reads + [Call(kind="list", edge=place, limit=2) for place in places]


# --- the run -------------------------------------------------------------------------------------------------


async def perform(sim: workersim.Simulation, client: httpx.AsyncClient, call: Call) -> list[Outcome]:
    """Make the planned call; its outcome in the model's shape (one per page for a list)."""
    if call.edge == CENTRAL:
        return await perform_rest(client, call)
    kv = sim.env(sim.edges[call.edge]).KV
    try:
        if call.kind == "put":
            await kv.put(call.key, call.value, {} if call.ttl is None else {"expirationTtl": call.ttl})
            return [True]
        if call.kind == "delete":
            await kv.delete(call.key)
            return [True]
        if call.kind == "get":
            return [await kv.get(call.key, {} if call.cache_ttl is None else {"cacheTtl": call.cache_ttl})]
    except workersim.WorkersimError as error:
        return [("error", str(error))]
    pages: list[Outcome] = []
    cursor = None
    while True:
        options: dict[str, Any] = {"prefix": call.prefix, "limit": call.limit}
        if cursor is not None:
            options["cursor"] = cursor
        page = await kv.list(options)
        pages.append((tuple((k["name"], k.get("expiration")) for k in page["keys"]), page["list_complete"]))
        if page["list_complete"]:
            return pages
        cursor = page["cursor"]


async def perform_rest(client: httpx.AsyncClient, call: Call) -> list[Outcome]:
    path = f"/{REST_NS}/values/{call.key}"
    if call.kind == "put":
        params = {} if call.ttl is None else {"expiration_ttl": call.ttl}
        response = await client.put(path, content=call.value.encode(), params=params)
        return [response.json()["success"]]
    if call.kind == "delete":
        return [(await client.delete(path)).json()["success"]]
    if call.kind == "get":
        response = await client.get(path)
        return [response.text if response.status_code == 200 else None]
    pages: list[Outcome] = []
    cursor = ""
    while True:
        params: dict[str, Any] = {"prefix": call.prefix, "limit": call.limit}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get(f"/{REST_NS}/keys", params=params)).json()
        cursor = body["result_info"]["cursor"]
        pages.append((tuple((k["name"], k.get("expiration")) for k in body["result"]), not cursor))
        if not cursor:
            return pages


def observed(plan: Plan, final: list[Call]) -> dict[tuple[int, int], list[Outcome]]:
    """Run the plan on a simulation; what every call returned, keyed like ``expected``."""
    sim = workersim.Simulation(
        edges=plan.edges,
        kv_namespaces=(NAMESPACE,),
        max_delay=plan.max_ms / 1000,
        delays=PlannedDelay(plan.delays, plan.edges, plan.max_ms),
        edge_cache=None if plan.cache_ttl is None else workersim.EdgeCache(default_ttl=plan.cache_ttl),
    )
    app = RestApp.for_simulation(sim, "account", "token")
    outcomes: dict[tuple[int, int], list[Outcome]] = {}

    async def task(
        client: httpx.AsyncClient, t0: float, t: int, steps: tuple[tuple[int, Call], ...] | list[tuple[int, Call]]
    ) -> None:
        for s, (at, call) in enumerate(steps):
            # Absolute deadlines: tasks acting at one instant wake in the same scheduler pass.
            await trio.sleep_until(t0 + at / 1000)
            outcomes[t, s] = await perform(sim, client, call)

    async def network(t0: float) -> None:
        for at, action, edges in plan.network:
            await trio.sleep_until(t0 + at / 1000)
            names = [plan.edges[i] for i in edges]
            sim.partition(names) if action == "partition" else sim.heal(names)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        base = "http://workersim/client/v4/accounts/account/storage/kv/namespaces"
        headers = {"Authorization": "Bearer token"}
        async with sim, httpx.AsyncClient(transport=transport, base_url=base, headers=headers) as client:
            t0 = trio.current_time()
            async with trio.open_nursery() as nursery:
                for t, steps in enumerate(plan.tasks):
                    nursery.start_soon(task, client, t0, t, steps)
                nursery.start_soon(network, t0)
            await trio.sleep_until(t0 + (plan.end() + 500) / 1000)
            sim.heal(plan.edges)
            await task(client, t0, -1, [(final_time(plan), call) for call in final])

    workersim.run(main)
    return outcomes


def describe(plan: Plan, slot: tuple[int, int], final: list[Call]) -> str:
    t, s = slot
    if t == -1:
        return f"final {final[s]}"
    at, call = plan.tasks[t][s]
    return f"task {t} at {at} ms: {call}"


def check(plan: Plan, rest: bool) -> None:
    final = final_calls(plan, rest)
    want = expected(plan, final)
    got = observed(plan, final)
    wrong = [f"{describe(plan, slot, final)}: got {got.get(slot)}, model {want[slot]}" for slot in want]
    wrong = [line for line, slot in zip(wrong, want, strict=True) if got.get(slot) != want[slot]]
    assert not wrong, "\n".join(wrong)
    assert set(got) == set(want)


# --- the properties ------------------------------------------------------------------------------------------


@FAST
@given(plans())
def test_concurrent_edges_with_partitions_match_the_planned_model(plan: Plan) -> None:
    check(plan, rest=False)


@FAST
@given(plans(rest=True))
def test_rest_writes_and_reads_at_the_central_store_match_the_planned_model(plan: Plan) -> None:
    check(plan, rest=True)


@settings(FAST, max_examples=150)  # reads exactly cacheTtl after a fetch are rare: more examples find them
@given(plans(rest=True, cache=True))
def test_the_edge_cache_model_matches_the_planned_model(plan: Plan) -> None:
    check(plan, rest=True)


@FAST
@given(plans(rest=True))
def test_after_heal_and_max_delay_every_place_holds_the_last_planned_write(plan: Plan) -> None:
    """Convergence, judged without the model: the last write of each key in the planned order (time, then task
    order at one instant, where each task makes one call) is what every edge and the central store read at the
    end."""
    final = final_calls(plan, rest=True)
    got = observed(plan, final)
    order = sorted(
        (at, t, call) for t, task in enumerate(plan.tasks) for at, call in task if call.kind in ("put", "delete")
    )
    end = final_time(plan)
    last: dict[str, str | None] = {}
    for at, _, call in order:
        expired = call.ttl is not None and ((START_MS + at) // 1000 + call.ttl) * 1000 <= START_MS + end
        last[call.key] = call.value if call.kind == "put" and not expired else None
    for i, call in enumerate(final):
        if call.kind == "get":
            assert got[-1, i] == [last.get(call.key)], call
