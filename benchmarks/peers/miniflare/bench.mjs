// Miniflare's Workers KV binding, measured like for like with benchmarks/kv_ops.py.
//
// Derived from the team's peer benchmark (shared/peers/miniflare/bench.mjs), changed so that both sides do the
// same work: the same key names and value size, list calls of 100 keys under a prefix (as kv_ops.py does), and
// each phase run with PAR loops in flight at once, so that "1" compares against workersim's single task and
// "100" against its 100 concurrent tasks.
//
// Usage: node bench.mjs N VALUE_BYTES PAR [PAR ...]
//   N            operations per phase (list: N / 10 calls of 100 keys, going over the N keys ten times)
//   VALUE_BYTES  size of every stored value
//   PAR          loops in flight; every phase runs once per PAR given
// Prints one JSON line per phase and a last line "RESULTS_JSON {...}".
import { Miniflare } from "miniflare";

const N = parseInt(process.argv[2] ?? "10000");
const VALUE_BYTES = parseInt(process.argv[3] ?? "100");
const PARS = process.argv.slice(4).map((p) => parseInt(p));
if (!(N >= 100 && VALUE_BYTES >= 0 && PARS.length && PARS.every((p) => p >= 1))) {
  console.error("usage: node bench.mjs N VALUE_BYTES PAR [PAR ...]  (N >= 100)");
  process.exit(2);
}

// Timing happens inside the worker around the loops; Date.now() advances across I/O in workerd.
const workerScript = `
const key = (i) => "key-" + String(i).padStart(8, "0");
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const op = u.searchParams.get("op");
    const n = parseInt(u.searchParams.get("n"));
    const par = parseInt(u.searchParams.get("par"));
    const value = "v".repeat(parseInt(u.searchParams.get("bytes")));
    const NS = env.NS;
    let found = 0;
    const one = {
      put: async (i) => { await NS.put(key(i), value); },
      get: async (i) => { if ((await NS.get(key(i))) !== null) found++; },
      getmiss: async (i) => { if ((await NS.get("nope-" + String(i).padStart(8, "0"))) === null) found++; },
      // Call i lists the 100 keys key-(100 b) .. key-(100 b + 99) of block b = i mod N/100: the prefix drops
      // the last two digits.
      list: async (i) => {
        // Awaited before the addition: "found += await ..." would read found before the await and lose counts.
        const block = i % Math.floor(n / 100);
        const listed = (await NS.list({ prefix: key(block * 100).slice(0, -2), limit: 100 })).keys.length;
        found += listed;
      },
      delete: async (i) => { await NS.delete(key(i)); },
    }[op];
    if (!one) return new Response("bad op", { status: 400 });
    const calls = op === "list" ? Math.floor(n / 10) : n;
    const per = Math.ceil(calls / par);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: par }, async (_, w) => {
      for (let i = w * per; i < Math.min(calls, (w + 1) * per); i++) await one(i);
    }));
    return Response.json({ op, calls, ms: Date.now() - t0, found });
  },
};
`;

const mf = new Miniflare({
  modules: true,
  script: workerScript,
  kvNamespaces: ["NS"],
  kvPersist: false,
  compatibilityDate: "2024-09-23",
});
await mf.ready;

const results = [];
async function phase(op, par) {
  const t0 = performance.now();
  const res = await mf.dispatchFetch(`http://localhost/?op=${op}&n=${N}&par=${par}&bytes=${VALUE_BYTES}`);
  const body = await res.json();
  const seconds = (performance.now() - t0) / 1000;
  // Every call must have done real work: hits found, misses missed, 100 keys per list call.
  const expected = { get: N, getmiss: N, list: Math.floor(N / 10) * 100 }[op];
  if (expected !== undefined && body.found !== expected) {
    throw new Error(`${op} (par ${par}): found ${body.found}, expected ${expected}`);
  }
  const row = { op, par, calls: body.calls, seconds: +seconds.toFixed(3), calls_per_s: Math.round(body.calls / seconds) };
  results.push(row);
  console.log(JSON.stringify(row));
}

console.log(`miniflare bench: N=${N} VALUE_BYTES=${VALUE_BYTES} PAR=${PARS.join(",")} node=${process.version}`);
for (const par of PARS) {
  for (const op of ["put", "get", "getmiss", "list", "delete"]) await phase(op, par);
}
console.log("RESULTS_JSON " + JSON.stringify({ N, VALUE_BYTES, node: process.version, results }));
await mf.dispose();
