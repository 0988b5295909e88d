import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { toGrowthSvg } from "../../src/diagnostics/curves.js";
import { toFlameGraphHtml } from "../../src/diagnostics/flamegraph.js";
import type { Frame, Snapshot, TrackedContext } from "../../src/diagnostics/model.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const site = (functionName: string, line: number, file = "/srv/billing.ts"): Frame => ({
  functionName,
  file,
  line,
  column: 9,
});
const INJECTION = `</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2">`;

function ctx(id: number, stack: readonly Frame[], name?: string): TrackedContext {
  return {
    id,
    name,
    kind: "withCancel",
    parentId: undefined,
    createdAt: 0,
    deadline: undefined,
    stack,
  };
}

/** 30 contexts leaked by `leakyRenewal`, 2 healthy, one with a hostile function name. */
const snapshot: Snapshot = {
  takenAt: 60_000,
  takenAtWall: "2025-05-06T07:08:09.000Z",
  pid: 99,
  contexts: [
    ...Array.from({ length: 30 }, (_, i) =>
      ctx(i, [site("leakyRenewal", 17), site("scheduleJobs", 5)], "renewal"),
    ),
    ctx(30, [site("chargeCard", 40), site("scheduleJobs", 6)]),
    ctx(31, [site("chargeCard", 40), site("scheduleJobs", 6)]),
    ctx(32, [site(INJECTION, 1, `/srv/"quoted" & 'odd' ü.ts`)], INJECTION),
  ],
  operations: [],
  findings: [
    {
      kind: "never-canceled",
      message: "",
      stack: [site("leakyRenewal", 17), site("scheduleJobs", 5)],
      ageMs: 50_000,
    },
  ],
  samples: [],
  omitted: { contexts: 5, operations: 0, findings: 0 },
};

describe("toFlameGraphHtml", () => {
  it("is self-contained: no URL, no external resource, a CSP that allows only its own script and style", () => {
    const html = toFlameGraphHtml(snapshot);
    assert.doesNotMatch(html, /https?:\/\//);
    assert.doesNotMatch(html, /<[^>]+\s(src|href)=/);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/
      .exec(html)?.[1]
      ?.replace(/&#39;/g, "'");
    assert.ok(csp !== undefined, "has a CSP meta element");
    assert.match(csp, /default-src 'none'/);
    const script = /<script>([\s\S]*?)<\/script>\n<\/body>/.exec(html)?.[1] ?? "";
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    const hash = (s: string): string => createHash("sha256").update(s).digest("base64");
    assert.ok(csp.includes(`script-src 'sha256-${hash(script)}'`), "script hash matches");
    assert.ok(csp.includes(`style-src 'sha256-${hash(style)}'`), "style hash matches");
  });

  it("escapes names and titles in the markup and in the embedded data", () => {
    const html = toFlameGraphHtml(snapshot, { title: `Leaks <b>&</b> "more"` });
    assert.equal(html.split("<script").length - 1, 2, "only the data block and the page script");
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /<title>Leaks &lt;b&gt;&amp;&lt;\/b&gt; &quot;more&quot;<\/title>/);
    assert.ok(html.includes("&lt;/script&gt;&lt;script&gt;window.pwned=1"), "table cell escaped");
    const data =
      /<script type="application\/json" id="flame-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    assert.doesNotMatch(data, /[<>]/);
    const parsed = JSON.parse(data) as { charts: { names: string[] }[] };
    assert.ok(parsed.charts[0]?.names.includes(INJECTION), "the data round-trips exactly");
  });

  it("says so when nothing is tracked", () => {
    const html = toFlameGraphHtml({
      ...snapshot,
      contexts: [],
      findings: [],
      omitted: { contexts: 0, operations: 0, findings: 0 },
    });
    assert.match(html, /Nothing tracked: no live contexts, operations or findings\./);
    assert.match(html, /0 live contexts, 0 operations, 0 findings/);
  });

  it("stays fast and bounded with 100,000 distinct stacks, and says what it left out", () => {
    const contexts = Array.from({ length: 100_000 }, (_, i) =>
      ctx(i, [site(`job${i}`, i), site(`queue${i % 100}`, 3), site("main", 1)]),
    );
    const started = performance.now();
    const html = toFlameGraphHtml({ ...snapshot, contexts }, { maxNodes: 5_000 });
    const elapsed = performance.now() - started;
    // Generous for 2 shared cores; a quadratic slip would take minutes.
    assert.ok(elapsed < 15_000, `took ${elapsed.toFixed(0)} ms`);
    assert.ok(html.length < 600_000, `${html.length} bytes`);
    const data = JSON.parse(/id="flame-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "{}") as {
      charts: { nodes: number[] }[];
    };
    const live = data.charts[0]?.nodes ?? [];
    assert.ok(live.length / 5 <= 5_000);
    assert.equal(live[2], 100_000 + 5, "the root still counts every live item");
    assert.equal(data.charts[1]?.nodes[2], 1, "the finding, in its own graph");
    assert.match(html, /\d+ stacks not drawn \(maxNodes\)/);
    assert.match(html, /left out by the tracker: 5 contexts/);
  });

  it("rejects bad options, naming them", () => {
    assert.throws(
      () => toFlameGraphHtml(snapshot, { maxNodes: 3 }),
      /toFlameGraphHtml: options\.maxNodes must be an integer from 10/,
    );
    assert.throws(
      () => toFlameGraphHtml(snapshot, { title: 5 as unknown as string }),
      /options\.title must be a string/,
    );
  });
});

describe("exporters in headless Chromium", () => {
  let browser: BrowserContext | undefined;
  let dir = "";
  const problems: string[] = [];
  const requests: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) return;
    dir = mkdtempSync(join(tmpdir(), "timebound-browser-"));
    // A new, empty profile directory: no extensions, no cache, nothing from earlier runs.
    browser = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 500 },
    });
  });

  after(async () => {
    await browser?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a file written into the temp dir, recording console errors, page errors and requests. */
  async function open(t: TestContext, name: string, content: string): Promise<Page | undefined> {
    if (browser === undefined) {
      t.skip(`${CHROMIUM} is missing; CI installs Debian's chromium to run this`);
      return undefined;
    }
    problems.length = 0;
    requests.length = 0;
    const file = join(dir, name);
    writeFileSync(file, content);
    const page = await browser.newPage();
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning")
        problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    return page;
  }

  it("renders the flame graph: no errors, no requests, the leaking function shown, hover, zoom, search", async (t) => {
    const page = await open(
      t,
      "leaks.html",
      toFlameGraphHtml(snapshot, { title: "billing leaks" }),
    );
    if (page === undefined) return;
    await page.locator("#chart .f").first().waitFor();
    const leak = await widest(page.locator("#chart .f", { hasText: /^leakyRenewal$/ }));
    assert.equal(await page.title(), "billing leaks");
    assert.ok(
      (await page.locator("#chart").innerText()).includes(INJECTION),
      "hostile name shown as text",
    );
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);

    await leak.hover();
    const tip = await page.locator("#tip").innerText();
    // 30 of the 38 live items (33 contexts, 5 left out): the finding about them is not counted.
    assert.match(tip, /leakyRenewal\n\/srv\/billing\.ts:17:9\n30 items, 78\.9% of all/);
    const found = page.locator("#findings-chart .f", { hasText: /^leakyRenewal$/ });
    await found.hover();
    assert.match(
      await page.locator("#tip").innerText(),
      /leakyRenewal\n\/srv\/billing\.ts:17:9\n1 thing found, 100\.0% of all/,
      "findings have a graph of their own",
    );
    assert.equal(await page.locator("#findings-status").innerText(), "1 thing found");

    const before = (await leak.boundingBox())?.width ?? 0;
    await leak.click();
    const zoomed = await widest(page.locator("#chart .f", { hasText: /^leakyRenewal$/ }));
    const after = (await zoomed.boundingBox())?.width ?? 0;
    assert.ok(after > before * 1.2 && after > 1000, `zoomed from ${before} to ${after} px`);
    await page.keyboard.press("Escape");

    await page.fill("#search", "chargecard");
    assert.equal(await page.locator("#chart .f.match").count(), 1);
    assert.match(await page.locator("#status").innerText(), /matched 2 of 38 items \(5\.3%\)/);
    await page.fill("#search", "");

    const png = await page.screenshot({ path: join(dir, "flame.png"), fullPage: true });
    assertNonTrivialPng(png, readFileSync(join(dir, "flame.png")));
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [page.url()]);
  });

  it("opens the growth SVG as an image document with every line drawn", async (t) => {
    const samples = Array.from({ length: 20 }, (_, i) => ({
      at: i * 1000,
      heapUsed: (40 + i) * 2 ** 20,
      rss: (90 + i) * 2 ** 20,
      handles: { Timeout: i, "<odd & 'name'>": 1 },
      liveContexts: 2 * i,
      liveOperations: 1,
    }));
    const page = await open(t, "growth.svg", toGrowthSvg(samples, { title: `growth <&> "x"` }));
    if (page === undefined) return;
    assert.equal(await page.locator("parsererror").count(), 0);
    assert.equal(await page.locator("polyline").count(), 6);
    assert.ok(
      (await page.locator("svg").innerHTML()).includes("handles: &lt;odd &amp; 'name'&gt;"),
    );
    const png = await page.screenshot({ path: join(dir, "growth.png") });
    assertNonTrivialPng(png, readFileSync(join(dir, "growth.png")));
    assert.deepEqual(problems, []);
  });
});

/** The widest of the frames a locator finds (the same function appears under several roots). */
async function widest(frames: Locator): Promise<Locator> {
  let best = frames.first();
  let bestWidth = -1;
  for (const frame of await frames.all()) {
    const width = (await frame.boundingBox())?.width ?? 0;
    if (width > bestWidth) [best, bestWidth] = [frame, width];
  }
  return best;
}

/** A PNG of real size whose pixels are not all one colour (so something was drawn). */
function assertNonTrivialPng(png: Buffer, onDisk: Buffer): void {
  assert.ok(png.equals(onDisk), "the screenshot was written");
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  assert.ok(width >= 1000 && height >= 200, `${width}x${height}`);
  assert.ok(png.length > 10_000, `${png.length} bytes: more than a blank page`);
}
