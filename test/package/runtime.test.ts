// The packed package at run time, as a consumer project uses it: every subpath of "exports"
// through `import` and through `require`, each with a small call, in child node processes.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { consumer, moduleSubpaths, pack, run, scratch, shellEnv } from "./packed.js";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
/** The optional peers the smoke calls use; the rest of the checkout is not visible. */
const PEERS = ["pg", "ioredis", "@grpc/grpc-js", "undici", "prom-client"];
const FIXTURE_FILES = [
  "smoke.mjs",
  "consumer.mjs",
  "consumer.cjs",
  "app.mjs",
  "app.cjs",
  "dual.mjs",
  "using.mjs",
  "stack.mjs",
];

interface Found {
  readonly names?: string[];
  readonly smoke?: string;
  readonly file?: string;
  readonly error?: string;
}

/** What each smoke call must say, from the ESM build and from the CommonJS build alike. */
const SAYS: Record<string, RegExp> = {
  ".": /^cancel: AbortError; sleep past a 5 ms timeout: TimeoutError$/,
  "./http": /^parseTimeout\(encodeTimeout\(1500\)\): 1500$/,
  "./pg": /^query on a canceled context: AbortError$/,
  "./redis": /^command on a canceled context: AbortError$/,
  "./grpc": /^callOptions deadline about a minute away: true$/,
  "./process": /^execFile output: hi; a child past its deadline: TimeoutError$/,
  "./stream": /^piped: ab$/,
  "./fanout": /^a: A; missing: b,c$/,
  "./metrics": /^counted: true$/,
  "./resilience": /^retried a reset: ok after 2 attempts$/,
  "./testing": /^freePort is a port: true$/,
  "./diagnostics": /^tracking: false; parseStack found this frame: true$/,
};

let project: string;

/** Runs a fixture in the consumer project with the node running this test. */
function node(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return run(process.execPath, args, { cwd: project, timeoutMs: 60_000 });
}

const foundBy = new Map<string, Record<string, Found>>();

/** What a consumer fixture found, subpath by subpath (run once per fixture). */
function found(file: string): Record<string, Found> {
  let said = foundBy.get(file);
  if (said === undefined) {
    const r = node(file);
    assert.equal(r.status, 0, `${file} exited with ${r.status}:\n${r.stderr}`);
    said = JSON.parse(r.stdout) as Record<string, Found>;
    foundBy.set(file, said);
  }
  return said;
}

before(() => {
  project = consumer("runtime", { links: PEERS });
  for (const file of FIXTURE_FILES) copyFileSync(join(FIXTURES, file), join(project, file));
});

describe("the packed package, imported by an ES module consumer", () => {
  it("loads every subpath from dist/esm, and each smoke call works", () => {
    const esm = found("consumer.mjs");
    for (const subpath of moduleSubpaths().filter((s) => s !== "./register")) {
      const got = esm[subpath];
      assert.equal(got?.error, undefined, `import of ${subpath} failed:\n${got?.error}`);
      assert.match(got?.file ?? "", /node_modules\/timebound\/dist\/esm\//, subpath);
      assert.match(got?.smoke ?? "", SAYS[subpath] ?? /no expectation/, subpath);
    }
  });
});

describe("the packed package, required by a CommonJS consumer", () => {
  it("loads every subpath from dist/cjs, and each smoke call works", () => {
    const cjs = found("consumer.cjs");
    for (const subpath of moduleSubpaths().filter((s) => s !== "./register")) {
      const got = cjs[subpath];
      assert.equal(got?.error, undefined, `require of ${subpath} failed:\n${got?.error}`);
      assert.match(got?.file ?? "", /node_modules\/timebound\/dist\/cjs\//, subpath);
      assert.match(got?.smoke ?? "", SAYS[subpath] ?? /no expectation/, subpath);
    }
  });

  it("exports the same names as the ES module build, subpath by subpath", () => {
    const esm = found("consumer.mjs");
    const cjs = found("consumer.cjs");
    for (const subpath of Object.keys(esm)) {
      assert.ok((esm[subpath]?.names?.length ?? 0) > 0, `${subpath} exports nothing under import`);
      assert.deepEqual(cjs[subpath]?.names, esm[subpath]?.names, subpath);
    }
  });
});

describe("the packed package's preload, timebound/register", () => {
  for (const [flag, app] of [
    ["--import", "app.mjs"],
    ["--require", "app.cjs"],
  ] as const) {
    it(`node ${flag} timebound/register ${app} reports the contexts never canceled`, () => {
      const reports = scratch("register-report");
      const r = run(process.execPath, [flag, "timebound/register", app], {
        cwd: project,
        env: shellEnv({ TIMEBOUND_REPORT_DIR: reports, TIMEBOUND_NEVER_CANCELED_MS: "100" }),
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /sessions 2/);
      const report = JSON.parse(readFileSync(join(reports, "report.json"), "utf8")) as {
        findings: { kind: string; details?: { count?: number } }[];
      };
      const finding = report.findings.find((f) => f.kind === "lost-cancel");
      assert.equal(finding?.details?.count, 2, JSON.stringify(report.findings));
    });
  }
});

describe("both builds in one program (the dual package hazard)", () => {
  it("adopts a context of the other copy as a parent; a wait on it directly says to derive one", () => {
    const r = node("dual.mjs");
    assert.equal(r.status, 0, r.stderr);
    const said = JSON.parse(r.stdout) as {
      direct: string;
      message?: string;
      child: string;
      instanceofAcross: boolean;
    };
    assert.equal(said.direct, "rejected", r.stdout);
    assert.match(said.message ?? "", /derive one from it first \(withCancel\(ctx\)\)/);
    assert.equal(said.child, "ended with the parent");
    assert.equal(said.instanceofAcross, true, "instanceof works across the copies");
  });
});

describe("`using` in plain JavaScript", () => {
  const major = Number(process.versions.node.split(".")[0]);
  it(
    "cancels the context when its block ends (Node 24 and later)",
    {
      skip:
        major < 24
          ? `Node ${process.version} has no \`using\` in JavaScript (it runs from Node 24, V8 13.6)`
          : false,
    },
    () => {
      const r = node("using.mjs");
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { inside: "not ended", after: "AbortError" });
    },
  );
});

describe("stack traces under --enable-source-maps", () => {
  it("name the package's TypeScript sources, files that exist", () => {
    const r = node("--enable-source-maps", "stack.mjs");
    assert.equal(r.status, 0, r.stderr);
    const { stack } = JSON.parse(r.stdout) as { stack: string };
    const files = [
      ...stack.matchAll(/(\/[^\s()]*node_modules\/timebound\/[^\s():]+):\d+:\d+/g),
    ].map((m) => m[1]!);
    assert.ok(files.length > 0, `no frame of timebound in:\n${stack}`);
    for (const file of files) {
      assert.match(file, /\/timebound\/src\/.+\.ts$/, "a frame mapped to its source");
      assert.ok(existsSync(file), `the stack names ${file}, which is not installed`);
    }
  });
});

describe("the timebound command, from the package", () => {
  const bin = (): string => join(project, "node_modules", "timebound", "bin", "timebound.js");

  it("prints the package's version", () => {
    const r = node(bin(), "--version");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pack().manifest.version);
  });

  it("runs a lab scenario", () => {
    const r = node(bin(), "lab", "--only", "nested-deadlines", "--scale", "0.05", "--json");
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { scenarios: { id: string }[] };
    assert.deepEqual(
      report.scenarios.map((s) => s.id),
      ["nested-deadlines"],
    );
  });

  it("diagnoses a program when source maps are on (NODE_OPTIONS=--enable-source-maps)", () => {
    const out = scratch("diagnose");
    const r = run(process.execPath, [bin(), "diagnose", "--out", out, "--", "node", "app.mjs"], {
      cwd: project,
      env: shellEnv({ NODE_OPTIONS: "--enable-source-maps" }),
      timeoutMs: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /no report was written/);
  });
});
