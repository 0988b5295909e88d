// The gateway scenario, small: the real gateway process in front of the fault-injecting upstream,
// a short run of each variant, and the verdicts the table draws, with wide margins.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findGateway } from "../../src/lab/gateway-process.js";
import {
  type GatewayRun,
  gatewayFindings,
  gatewayRows,
  gatewayPlan,
  runGateway,
  verdict,
} from "../../src/lab/gateway.js";
import { GATEWAY_VARIANTS } from "../../src/lab/gateway-variants.js";
import { silentProgress } from "../../src/lab/scenario.js";

describe("lab: gateway", () => {
  it("finds the gateway of this repository's workspace", () => {
    const found = findGateway();
    assert.equal(typeof found, "object", `the gateway was not found: ${JSON.stringify(found)}`);
  });

  it("says what the run's length leaves out, before any verdict", () => {
    const plain = { variant: GATEWAY_VARIANTS[0]!, load: { sent: 400 } } as GatewayRun;
    const quick = gatewayFindings([], gatewayPlan(0.1875, 100, true));
    assert.match(
      quick[0] ?? "",
      /^Quick run \(the whole lab's\): 3,000 ms per variant, clients giving up after 1,000 ms/,
    );
    assert.match(quick[0] ?? "", /`timebound lab --only gateway` runs 4,000 ms per variant/);
    // At 4 s the plain proxy's requests hung from 2 s to the outage's end (2.6 s) outlast the run.
    const short = gatewayFindings([plain], gatewayPlan(0.25));
    assert.match(short[0] ?? "", /^Short run: requests the plain proxy let hang from 2,000 ms/);
    assert.match(short[0] ?? "", /--scale 0\.4 or more/);
    // The quick run's clients give up after 1 s: every request hung by its outage is counted.
    const quickPlain = gatewayFindings([plain], gatewayPlan(0.1875, 100, true));
    assert.ok(
      !quickPlain.some((f) => f.startsWith("Short run")),
      `quick run sees every hung request: ${quickPlain.join(" | ")}`,
    );
    const long = gatewayFindings([plain], gatewayPlan(0.4));
    assert.ok(
      !long.some((f) => f.startsWith("Short run")),
      `every hung request seen: ${long.join(" | ")}`,
    );
  });

  it("through the gateway, the seed's route and timebound's best beat a plain proxy over a sick upstream", async () => {
    // The length of `--only gateway` (4 s a variant: a request hung early in the outage is given
    // up at 2 s, within the run), at a low rate: the shared machine stays out of it.
    const plan = gatewayPlan(0.25, 60);
    const runs = await runGateway(plan, silentProgress);
    assert.ok(typeof runs !== "string", `skipped: ${JSON.stringify(runs)}`);
    const by = (key: string) => runs.find((r) => r.variant.key === key)!;
    const [plain, seed, best] = [by("plain"), by("seed"), by("timebound")];

    // The plain proxy waits out the hanging outage: its clients give up at 2 s.
    assert.ok(plain.figures.maxMs >= 1_500, `plain proxy max ${plain.figures.maxMs} ms`);
    assert.ok(plain.figures.errorRate > 0.1, `plain proxy errors ${plain.figures.errorRate}`);
    assert.equal(plain.figures.fallbackShare, 0, "a plain proxy has no fallback");
    // The routes with a deadline answer within it (800 ms; wide margin for a busy machine).
    for (const r of [seed, best]) {
      assert.ok(r.figures.p99Ms < 1_500, `${r.variant.key} P99 ${r.figures.p99Ms} ms`);
    }
    assert.ok(best.figures.fallbackShare > 0, "timebound's best answered from its fallbacks");
    const errorsWin = verdict(best, plain).wins.some((w) => w.startsWith("error rate"));
    assert.ok(
      errorsWin,
      `timebound's best beats the plain proxy on errors: ${JSON.stringify(verdict(best, plain))}`,
    );
    const meanLoss = verdict(best, plain).losses.some((w) => w.startsWith("mean"));
    assert.ok(!meanLoss, "timebound's best is not slower on average than a plain proxy");

    const rows = gatewayRows(runs);
    const keys = rows.map((r) => r.key);
    for (const key of [
      "seed-reported.mean",
      "seed.p99",
      "seed.errors",
      "timebound.fallback",
      "timebound.recovery",
      "timebound.upstream.peak",
    ]) {
      assert.ok(keys.includes(key), `row ${key} is in the table`);
    }
  });
});
