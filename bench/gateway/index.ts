// The gateway against the proxies a Node team would otherwise run, in one run on one machine:
// direct to the upstream, nginx (one worker, keepalive upstream), @fastify/http-proxy, a bare
// node:http + undici Pool proxy (the floor for a proxy in Node), the same with the header fields
// the gateway adds to every request (what header hygiene alone costs), and timebound's gateway
// plain and with the full per-route policy set. Each proxy and the upstream run in their own process;
// autocannon drives them with a fixed connection count. Rows: requests/s, p50/p99 added over
// direct, RSS of the proxy process, its CPU µs per request at a fixed 4,000 requests/s (the
// proxy's own cost, steadier than the saturated rate on a shared machine), and the bytes a Node
// proxy allocates a request (a count, not a time: the one figure the machine does not move;
// allocation is much of what a request costs here, docs/benchmarks.md). Goals: full policies
// >= 0.9x the bare proxy's requests/s and <= 1 ms added p99 over it, from each row's best round;
// the same ratio round by round is printed too (the two rows are measured back to back), and
// measured side by side with the plain gateway: all running, loaded in turn in short slices
// (sideBySide), which also splits the gap between every route's cost and the policies'.
//   npm run bench -- gateway        TIMEBOUND_BENCH_SECONDS=10 for longer runs (default 5),
//                                   TIMEBOUND_BENCH_WARMUP_SECONDS (default 5),
//                                   TIMEBOUND_BENCH_ROUNDS (default 3), TIMEBOUND_BENCH_TURNS (8)
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { envNumber, formatRatio, machine, median, writeJson } from "../harness.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const SECONDS = envNumber("TIMEBOUND_BENCH_SECONDS", 5);
const CONNECTIONS = 50;
const ROUNDS = envNumber("TIMEBOUND_BENCH_ROUNDS", 3);
/**
 * Load before the measured seconds, for each row in each round (every row is a fresh process).
 * V8 goes on optimizing a proxy's hot path for about 4 s of saturating load here (hundreds of
 * functions, on the proxy's own CPU): with 1 s, the measured seconds paid for that compiling.
 */
const WARMUP_SECONDS = envNumber("TIMEBOUND_BENCH_WARMUP_SECONDS", 5, 0);

interface Started {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** What the process printed on stdout so far. */
  output(): string;
  stop(): void;
}

/**
 * The proxy under test gets CPU 0 to itself; the upstream and the load generator (this process:
 * autocannon runs in it) share CPU 1. Unpinned on this 2-core machine, a proxy's figure was
 * bimodal (7.5k or 13k requests/s in back-to-back runs, as the scheduler put it beside the
 * load generator or not); pinned, runs agree within a few percent. Without taskset or with one
 * CPU, nothing is pinned (and the output says so).
 */
const PINNED = availableParallelism() >= 2 && spawnSync("taskset", ["-V"]).status === 0;
const PROXY_CPU = "0";
const LOAD_CPU = "1";

/** `command args` to run on `cpu` when pinning (taskset), else as it is. */
function onCpu(cpu: string, command: string, args: readonly string[]): [string, string[]] {
  return PINNED ? ["taskset", ["-c", cpu, command, ...args]] : [command, [...args]];
}

async function startNode(
  name: string,
  args: readonly string[],
  cpu: string = PROXY_CPU,
): Promise<Started> {
  const [command, argv] = onCpu(cpu, process.execPath, args);
  const child: ChildProcess = spawn(command, argv, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const m = /^(\d+)\s*$/m.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once("exit", (code) =>
      reject(new Error(`${name} exited with ${String(code)} before listening`)),
    );
  });
  return { name, port, pid: child.pid!, output: () => out, stop: () => child.kill("SIGKILL") };
}

function nginxBinary(): string | undefined {
  for (const path of ["/usr/sbin/nginx", "/usr/bin/nginx"]) {
    if (spawnSync(path, ["-v"]).status === 0) return path;
  }
  return undefined;
}

async function startNginx(upstreamPort: number): Promise<Started | string> {
  const binary = nginxBinary();
  if (binary === undefined) return "nginx is not installed (Debian package nginx)";
  const dir = mkdtempSync(join(tmpdir(), "timebound-bench-nginx-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const [command, argv] = onCpu(PROXY_CPU, binary, ["-c", join(dir, "nginx.conf"), "-p", dir]);
  // A process group of its own: killing the master alone left its worker running, pinned to
  // the proxy's CPU, after every round.
  const child = spawn(command, argv, { stdio: "ignore", detached: true });
  const stop = (): void => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Listening, not merely started: a round against a port nobody serves reads as a flood of
  // errors, fast.
  const deadline = Date.now() + 3_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      let log = "";
      try {
        log = readFileSync(join(dir, "error.log"), "utf8").trim().split("\n").at(-1) ?? "";
      } catch {
        // nothing logged
      }
      stop();
      return `nginx did not start on port ${port}: ${log || "no error logged"}`;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name: "nginx", port, pid: child.pid!, output: () => "", stop };
}

/** A loopback port free a moment ago (the kernel's pick), for a server that cannot take port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on loopback `port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? NaN : Number(m[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) of `pid` and its children still running (nginx's worker), in ms. */
function cpuMs(pid: number): number {
  const ticksOf = (p: string): number => {
    try {
      // Fields after the command's closing parenthesis: state is 3rd, utime 14th, stime 15th.
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(f[11]) + Number(f[12]);
    } catch {
      return 0;
    }
  };
  let ticks = ticksOf(String(pid));
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) ticks += ticksOf(p);
    } catch {
      // gone meanwhile
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;
/** The fixed rate at which the CPU cost per request is read: every proxy sustains it. */
const CPU_RATE = 4_000;
const CPU_SECONDS = 4;

/**
 * CPU µs the proxy spends per request at a fixed {@link CPU_RATE}: its own cost, less sensitive
 * than the saturated rate to what else the machine runs (the load generator, a neighbour).
 */
async function cpuPerRequest(port: number, pid: number): Promise<number> {
  const before = cpuMs(pid);
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/items`,
    connections: CONNECTIONS,
    duration: CPU_SECONDS,
    overallRate: CPU_RATE,
  });
  return ((cpuMs(pid) - before) * 1000) / r.requests.total;
}

interface Load {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Requests answered. */
  readonly total: number;
}

async function load(port: number, seconds: number): Promise<Load> {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/items`,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    total: r.requests.total,
  };
}

/** Turns of the side-by-side measurement, and each slice's length. */
const TURNS = envNumber("TIMEBOUND_BENCH_TURNS", 8);
const SLICE_SECONDS = 2;

/** One slice of load on one proxy. */
interface Slice {
  readonly rps: number;
  readonly p99: number;
  /** CPU µs per request over the slice. */
  readonly cpuUs: number;
}

/** Per turn, one slice of each proxy, in the order the proxies were given. */
type Turns = Slice[][];

/**
 * Proxies side by side: all running, each loaded in turn at saturation for
 * {@link SLICE_SECONDS}, {@link TURNS} turns, the order rotating from turn to turn. The slices
 * of a turn see the machine in the same phase, so the medians of ratios taken within turns are
 * the steadiest figures this shared machine gives: the rounds can catch one row in a busy
 * minute and the other in a quiet one.
 */
async function sideBySide(proxies: readonly Started[]): Promise<Turns> {
  const slice = async (p: Started): Promise<Slice> => {
    const before = cpuMs(p.pid);
    const l = await load(p.port, SLICE_SECONDS);
    if (l.errors > 0) throw new Error(`${p.name}: ${l.errors} errors in a side-by-side slice`);
    return { rps: l.rps, p99: l.p99, cpuUs: ((cpuMs(p.pid) - before) * 1000) / l.total };
  };
  for (const p of proxies) await load(p.port, WARMUP_SECONDS);
  const turns: Turns = [];
  for (let t = 0; t < TURNS; t++) {
    const turn: Slice[] = [];
    for (let k = 0; k < proxies.length; k++) {
      const i = (t + k) % proxies.length;
      turn[i] = await slice(proxies[i]!);
    }
    turns.push(turn);
  }
  return turns;
}

/** Within each turn, proxy `b` against proxy `a`: requests/s b/a, p99 b - a, CPU a/b. */
function sideBySideRatios(turns: Turns, a: number, b: number) {
  const rps = turns.map((t) => t[b]!.rps / t[a]!.rps);
  const p99 = turns.map((t) => t[b]!.p99 - t[a]!.p99);
  const cpu = turns.map((t) => t[a]!.cpuUs / t[b]!.cpuUs);
  return { rps, p99, cpu, rpsMedian: median(rps), p99Median: median(p99), cpuMedian: median(cpu) };
}

/** Requests before the allocation count starts (JIT, pools), and requests counted. */
const ALLOC_WARMUP_REQUESTS = 5_000;
const ALLOC_REQUESTS = 20_000;
const ALLOC_PROBE = join(HERE, "alloc-probe.mjs");

/** Waits until `started` prints a line matching `pattern`; fails after `ms`. */
async function printed(started: Started, pattern: RegExp, ms = 10_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = pattern.exec(started.output());
    if (m !== null) return m;
    if (Date.now() > deadline) throw new Error(`${started.name} did not print ${String(pattern)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Bytes a Node proxy allocates on the JS heap a request: a fresh process with the sampling heap
 * profiler preloaded (alloc-probe.mjs), {@link ALLOC_WARMUP_REQUESTS} requests, then
 * {@link ALLOC_REQUESTS} counted. Its own run: the profiler slows the process, so no timed
 * figure comes from it.
 */
async function allocatedPerRequest(started: Started): Promise<number> {
  const url = `http://127.0.0.1:${started.port}/items`;
  await autocannon({ url, connections: CONNECTIONS, amount: ALLOC_WARMUP_REQUESTS });
  process.kill(started.pid, "SIGUSR2");
  await printed(started, /^sampling$/m);
  const r = await autocannon({ url, connections: CONNECTIONS, amount: ALLOC_REQUESTS });
  process.kill(started.pid, "SIGUSR2");
  const bytes = Number((await printed(started, /^allocated (\d+)$/m))[1]);
  return bytes / r.requests.total;
}

interface Result extends Load {
  readonly name: string;
  readonly rssMiB: number;
  /** CPU µs per request at a fixed rate (least of the rounds); NaN for the direct row. */
  readonly cpuUs: number;
  /** Bytes allocated on the JS heap a request; NaN where not a Node process. */
  readonly allocatedBytes: number;
  readonly skipped?: string;
}

export async function run(): Promise<void> {
  // autocannon runs in this process: every thread of it goes to the load's CPU.
  if (PINNED) spawnSync("taskset", ["-a", "-pc", LOAD_CPU, String(process.pid)]);
  const upstream = await startNode("upstream", [join(HERE, "upstream.mjs")], LOAD_CPU);
  const origin = `http://127.0.0.1:${upstream.port}`;
  // The gateway as it ships (dist), not through tsx: its transform adds a helper call to every
  // closure the request path creates.
  const gatewayEntry = fileURLToPath(import.meta.resolve("@timebound/gateway"));
  const gatewayRow = (mode: string, node: readonly string[]) =>
    existsSync(gatewayEntry)
      ? startNode(`tb-${mode}`, [...node, join(HERE, "timebound-gateway.mjs"), origin, mode])
      : Promise.resolve(`the gateway package is not built (npm run build)`);
  /** Each row's maker; a Node proxy's takes Node options (the allocation probe). */
  type Maker = (node: readonly string[]) => Promise<Started | string>;
  const makers: [string, Maker][] = [
    ["direct", () => Promise.resolve({ ...upstream, stop: () => undefined })],
    ["nginx (1 worker)", () => startNginx(upstream.port)],
    [
      "bare node:http + undici Pool",
      (node) => startNode("bare", [...node, join(HERE, "bare-proxy.mjs"), origin]),
    ],
    [
      "bare + the gateway's headers",
      (node) =>
        startNode("bare-headers", [...node, join(HERE, "bare-proxy.mjs"), origin, "headers"]),
    ],
    [
      "@fastify/http-proxy",
      (node) => startNode("fastify", [...node, join(HERE, "fastify-proxy.mjs"), origin]),
    ],
    ["timebound gateway, plain", (node) => gatewayRow("plain", node)],
    ["timebound gateway, full policies", (node) => gatewayRow("full", node)],
  ];
  const makerOf = (name: string): Maker => makers.find(([n]) => n === name)![1];
  /** The rows that are Node proxies: their allocation is counted. */
  const nodeRows = makers
    .map(([name]) => name)
    .filter((name) => name !== "direct" && name !== "nginx (1 worker)");
  const results = new Map<string, Load[]>();
  let turns: Turns | undefined;
  const rss = new Map<string, number>();
  const cpu = new Map<string, number>();
  const allocated = new Map<string, number>();
  const skipped = new Map<string, string>();
  try {
    // Measured with the goal's two rows next to each other (bare, then full; full, then bare in
    // the reversed rounds), so that each round's pair sees the machine in the same phase.
    const goalRows = ["bare node:http + undici Pool", "timebound gateway, full policies"];
    const order = [
      ...makers.filter(([name]) => !goalRows.includes(name)),
      ...goalRows.map((name) => makers.find(([n]) => n === name)!),
    ];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, make] of round % 2 === 0 ? order : [...order].reverse()) {
        if (skipped.has(name)) continue;
        const started = await make([]);
        if (typeof started === "string") {
          skipped.set(name, started);
          continue;
        }
        try {
          await load(started.port, WARMUP_SECONDS); // JIT, connection pools
          const measured = await load(started.port, SECONDS);
          results.set(name, [...(results.get(name) ?? []), measured]);
          rss.set(name, Math.max(rss.get(name) ?? 0, rssMiB(started.pid)));
          if (name !== "direct") {
            const us = await cpuPerRequest(started.port, started.pid);
            cpu.set(name, Math.min(cpu.get(name) ?? Infinity, us));
          }
        } finally {
          started.stop();
        }
      }
    }
    // bare, plain, full: the goal's ratio, and how the gap splits between what every route
    // does and what the policies add.
    const sideRows = [goalRows[0]!, "timebound gateway, plain", goalRows[1]!];
    const started: Started[] = [];
    try {
      for (const name of sideRows) {
        const s = await makerOf(name)([]);
        if (typeof s !== "string") started.push(s);
      }
      if (started.length === sideRows.length) turns = await sideBySide(started);
    } finally {
      for (const s of started) s.stop();
    }
    for (const name of nodeRows) {
      if (skipped.has(name)) continue;
      const s = await makerOf(name)(["--import", ALLOC_PROBE]);
      if (typeof s === "string") continue;
      try {
        allocated.set(name, await allocatedPerRequest(s));
      } finally {
        s.stop();
      }
    }
  } finally {
    upstream.stop();
  }
  // A round with errors is a failed round, whatever its rate (refused connections are fast):
  // the best round is the fastest of those without errors, else the one with the fewest.
  const better = (a: Load, b: Load): Load =>
    b.errors !== a.errors ? (b.errors < a.errors ? b : a) : b.rps > a.rps ? b : a;
  const best = (name: string): Load | undefined => results.get(name)?.reduce(better);
  const direct = best("direct")!;
  const rows: Result[] = makers.map(([name]) => {
    const l = best(name);
    if (l === undefined)
      return {
        name,
        rps: NaN,
        p50: NaN,
        p99: NaN,
        errors: 0,
        total: 0,
        rssMiB: NaN,
        cpuUs: NaN,
        allocatedBytes: NaN,
        skipped: skipped.get(name),
      };
    const own = name === "direct";
    return {
      name,
      ...l,
      rssMiB: own ? NaN : rss.get(name)!,
      cpuUs: own ? NaN : cpu.get(name)!,
      allocatedBytes: allocated.get(name) ?? NaN,
    };
  });
  console.log(
    `gateway: autocannon -c ${CONNECTIONS}, ${SECONDS} s per row after ${WARMUP_SECONDS} s of warm-up, best of ${ROUNDS} rounds, ` +
      (PINNED
        ? `proxy on CPU ${PROXY_CPU}, upstream and load on CPU ${LOAD_CPU}`
        : "not pinned (no taskset, or one CPU)"),
  );
  console.log(
    `${"proxy".padEnd(34)}${"req/s".padStart(10)}${"p50+".padStart(8)}${"p99+".padStart(8)}${"RSS MiB".padStart(9)}${`µs/req@${CPU_RATE / 1000}k`.padStart(12)}${"KB/req".padStart(8)}  errors`,
  );
  for (const r of rows) {
    if (r.skipped !== undefined) {
      console.log(`${r.name.padEnd(34)}  skipped: ${r.skipped}`);
      continue;
    }
    const added = (v: number, d: number) =>
      r.name === "direct" ? `${v}` : `+${Math.max(0, v - d)}`;
    console.log(
      `${r.name.padEnd(34)}${Math.round(r.rps).toLocaleString("en-US").padStart(10)}${added(r.p50, direct.p50).padStart(8)}${added(r.p99, direct.p99).padStart(8)}${(Number.isNaN(r.rssMiB) ? "-" : r.rssMiB.toFixed(0)).padStart(9)}${(Number.isNaN(r.cpuUs) ? "-" : r.cpuUs.toFixed(0)).padStart(12)}${(Number.isNaN(r.allocatedBytes) ? "-" : (r.allocatedBytes / 1024).toFixed(1)).padStart(8)}  ${r.errors}`,
    );
  }
  const bare = best("bare node:http + undici Pool");
  const full = best("timebound gateway, full policies");
  const fastify = best("@fastify/http-proxy");
  const nginx = best("nginx (1 worker)");
  const goals: Record<string, unknown> = {};
  if (bare !== undefined && full !== undefined) {
    const ratio = full.rps / bare.rps;
    const p99Added = full.p99 - bare.p99;
    goals.fullVsBare = { ratio, goal: 0.9, pass: ratio >= 0.9 };
    goals.p99AddedOverBareMs = { value: p99Added, goal: 1, pass: p99Added <= 1 };
    console.log(
      `full policies vs bare proxy: ${formatRatio(ratio)} requests/s (goal >= 0.90x: ${ratio >= 0.9 ? "PASS" : "MISS"}), p99 ${p99Added >= 0 ? "+" : ""}${p99Added} ms (goal <= +1 ms: ${p99Added <= 1 ? "PASS" : "MISS"})`,
    );
    // The same ratio round by round: rows of one round run within a minute of each other, so
    // these show how far this machine moved the verdict (best-of pairs rounds that may differ).
    const perRound = (results.get("timebound gateway, full policies") ?? []).map(
      (f, i) => f.rps / results.get("bare node:http + undici Pool")![i]!.rps,
    );
    const roundMedian = median(perRound);
    goals.fullVsBarePerRound = { ratios: perRound, median: roundMedian };
    console.log(
      `  round by round: ${perRound.map((r) => formatRatio(r)).join(", ")} (median ${formatRatio(roundMedian)})`,
    );
    if (turns !== undefined) {
      const goal = sideBySideRatios(turns, 0, 2);
      const plainVsBare = sideBySideRatios(turns, 0, 1);
      const fullVsPlain = sideBySideRatios(turns, 1, 2);
      const range = (v: number[]) =>
        `${formatRatio(Math.min(...v))}-${formatRatio(Math.max(...v))}`;
      const signed = (ms: number) => `${ms >= 0 ? "+" : ""}${ms}`;
      goals.sideBySide = {
        turns: TURNS,
        sliceSeconds: SLICE_SECONDS,
        fullVsBare: { ...goal, pass: goal.rpsMedian >= 0.9 && goal.p99Median <= 1 },
        plainVsBare,
        fullVsPlain,
      };
      console.log(
        `  side by side (${TURNS} turns of ${SLICE_SECONDS} s slices, all running): ${formatRatio(goal.rpsMedian)} requests/s (${range(goal.rps)}; goal: ${goal.rpsMedian >= 0.9 ? "PASS" : "MISS"}), ` +
          `p99 ${signed(goal.p99Median)} ms (goal: ${goal.p99Median <= 1 ? "PASS" : "MISS"}), CPU per request bare/full ${formatRatio(goal.cpuMedian)}`,
      );
      for (const [label, r] of [
        ["plain vs bare", plainVsBare],
        ["full vs plain", fullVsPlain],
      ] as const) {
        console.log(
          `  side by side, ${label}: ${formatRatio(r.rpsMedian)} requests/s, p99 ${signed(r.p99Median)} ms, CPU per request ${formatRatio(1 / r.cpuMedian)} of it`,
        );
      }
    }
    const fullRow = rows.find((r) => r.name === "timebound gateway, full policies")!;
    const bareRow = rows.find((r) => r.name === "bare node:http + undici Pool")!;
    const cpuFull = fullRow.cpuUs;
    const cpuBare = bareRow.cpuUs;
    goals.cpuPerRequestFullVsBare = { full: cpuFull, bare: cpuBare, ratio: cpuBare / cpuFull };
    console.log(
      `CPU per request at ${CPU_RATE} req/s: full ${cpuFull.toFixed(0)} µs, bare ${cpuBare.toFixed(0)} µs (bare/full ${formatRatio(cpuBare / cpuFull)})`,
    );
    const allocDiff = fullRow.allocatedBytes - bareRow.allocatedBytes;
    goals.allocatedFullOverBare = { bytes: allocDiff };
    console.log(
      `allocated a request: full ${(fullRow.allocatedBytes / 1024).toFixed(1)} KB, bare ${(bareRow.allocatedBytes / 1024).toFixed(1)} KB (${allocDiff >= 0 ? "+" : ""}${(allocDiff / 1024).toFixed(1)} KB)`,
    );
    const bareHeaders = best("bare + the gateway's headers");
    if (bareHeaders !== undefined) {
      // Not the goal's anchor: how much of the gap is the header hygiene every request gets.
      const vs = full.rps / bareHeaders.rps;
      goals.fullVsBareWithHeaders = { ratio: vs };
      console.log(
        `full policies vs bare + the gateway's headers: ${formatRatio(vs)} requests/s (the forwarding and deadline headers alone: bare ${formatRatio(bareHeaders.rps / bare.rps)})`,
      );
    }
    if (fastify !== undefined)
      console.log(`full policies vs @fastify/http-proxy: ${formatRatio(full.rps / fastify.rps)}`);
    if (nginx !== undefined)
      console.log(`full policies vs nginx (1 worker): ${formatRatio(full.rps / nginx.rps)}`);
  }
  console.log(
    `wrote ${writeJson("gateway", { machine: machine(), pinned: PINNED, connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS, rows, goals })}`,
  );
}
