// The diagnostics suite: what tracking costs a small HTTP service. The same service (see
// server.ts) runs in three child processes: diagnostics never imported, imported but off, and
// tracking on; autocannon (another child, so the load generator does not share a process with
// any of them) loads each in turn, rounds alternating the order, and each variant's median
// requests/s is compared with "not imported". Goals: on >= 0.8x; off indistinguishable (~1.0x).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import {
  type Row,
  formatRow,
  header,
  machine,
  median,
  row,
  verdict,
  writeJson,
} from "../harness.js";
import type { Mode } from "./server.js";

/** Load per measurement: seconds, and keep-alive connections. */
const DURATION_S = 3;
const CONNECTIONS = 10;
const ROUNDS = 3;
/** Warm-up per service before the first round (JIT, connection setup). */
const WARM_UP_S = 1;
/** "Off" counts as indistinguishable from "not imported" within this band. */
const OFF_BAND = 0.05;

const SERVER = fileURLToPath(new URL("./server.ts", import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon/autocannon.js");

interface Service {
  readonly mode: Mode;
  readonly child: ChildProcess;
  readonly url: string;
}

async function startService(mode: Mode): Promise<Service> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER, mode], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, TIMEBOUND_TRACK: "" },
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  const port = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)));
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      const line = /^(\d+)\n/.exec(out);
      if (line !== null) resolve(line[1]!);
    });
  });
  return { mode, child, url: `http://127.0.0.1:${port}/` };
}

async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode !== null) return;
  const exited = once(service.child, "exit");
  service.child.kill("SIGTERM");
  await exited;
}

/** Requests per second autocannon reached against `url` over `seconds`. */
async function load(url: string, seconds: number): Promise<number> {
  const child = spawn(
    process.execPath,
    [AUTOCANNON, "--json", "-c", String(CONNECTIONS), "-d", String(seconds), url],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${err.trim()}`);
  const result = JSON.parse(out) as {
    requests: { average: number };
    errors: number;
    non2xx: number;
    duration: number;
  };
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`autocannon: ${result.errors} errors, ${result.non2xx} non-2xx from ${url}`);
  }
  return result.requests.average;
}

const LABELS: Record<Mode, string> = {
  plain: "diagnostics not imported",
  off: "diagnostics imported, tracking off",
  on: "tracking on",
};

export async function run(): Promise<void> {
  const started = performance.now();
  const m = machine();
  console.log(`diagnostics benchmarks: node ${m.node}, ${m.cpu} x${m.cores}, ${m.date}`);
  console.log(
    `a node:http service (withTimeout + withCancel child + sleep(ctx, 0) per request), ` +
      `autocannon -c ${CONNECTIONS} -d ${DURATION_S}, ${ROUNDS} rounds, order rotating\n`,
  );
  const modes: Mode[] = ["plain", "off", "on"];
  const services: Service[] = [];
  const rates: Record<Mode, number[]> = { plain: [], off: [], on: [] };
  try {
    for (const mode of modes) services.push(await startService(mode));
    for (const s of services) await load(s.url, WARM_UP_S);
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order so no variant always runs first (or on the warmest machine).
      const order = services.map((_, i) => services[(i + r) % services.length]!);
      for (const s of order) {
        const rps = await load(s.url, DURATION_S);
        rates[s.mode].push(rps);
        console.log(`  round ${r + 1}: ${LABELS[s.mode].padEnd(36)} ${Math.round(rps)} req/s`);
      }
    }
  } finally {
    await Promise.all(services.map(stopService));
  }
  const plain = median(rates.plain);
  const rows: Row[] = [
    row(`http rps, ${LABELS.on}`, LABELS.plain, median(rates.on), plain, 0.8),
    row(`http rps, ${LABELS.off}`, LABELS.plain, median(rates.off), plain, 1 - OFF_BAND),
  ];
  const offRatio = rows[1]!.ratio;
  console.log(`\n${header()}`);
  for (const r of rows) console.log(formatRow(r));
  console.log(
    `\n"off" vs "not imported": ${offRatio.toFixed(3)}x, ` +
      (Math.abs(offRatio - 1) <= OFF_BAND
        ? `within ±${OFF_BAND * 100}%: indistinguishable at this noise level`
        : `outside ±${OFF_BAND * 100}%`),
  );
  const missed = rows.filter((r) => r.pass === false);
  console.log(
    missed.length === 0
      ? "all goals met"
      : `${missed.length} goal(s) missed:\n${missed.map((r) => `  ${r.name}: ${verdict(r)}`).join("\n")}`,
  );
  const file = writeJson("diagnostics", {
    suite: "diagnostics",
    machine: m,
    durationMs: Math.round(performance.now() - started),
    settings: { durationS: DURATION_S, connections: CONNECTIONS, rounds: ROUNDS },
    rounds: rates,
    rows,
  });
  console.log(`wrote ${file}`);
}
