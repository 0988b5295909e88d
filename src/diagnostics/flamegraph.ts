/**
 * A flame graph of the snapshot in one self-contained HTML file: inline CSS, a small inline
 * script and the data, nothing fetched. A Content-Security-Policy with the script's and the
 * style's hashes forbids every other script, style and network request, so a name that slipped
 * past escaping still could not run or phone home.
 */
import { createHash } from "node:crypto";
import { readOptions } from "../core/internal.js";
import {
  type FoldOptions,
  frameLocation,
  functionName,
  groupStacks,
  type StackGroup,
  type StackItem,
  validMaxStacks,
} from "./folded.js";
import type { Snapshot } from "./model.js";

/** Options of {@link toFlameGraphHtml}. */
export interface FlameGraphOptions extends Pick<FoldOptions, "maxStacks"> {
  /** Page title and heading. Default "timebound: live contexts, operations and findings". */
  readonly title?: string;
  /**
   * At most this many frames in the graph; stacks that would add more are counted in one
   * `[… stacks not drawn]` frame, so the file stays small (about 40 bytes a frame).
   * Default 20,000; 10 to 1,000,000.
   */
  readonly maxNodes?: number;
}

const DEFAULT_TITLE = "timebound: live contexts, operations and findings";
const DEFAULT_MAX_NODES = 20_000;
const MAX_MAX_NODES = 1_000_000;
/** Rows in the static "largest stacks" table under the graph. */
const TOP_STACKS = 20;

/** Colour families, by what the frames under a root count. */
const CATEGORIES = ["all", "context", "operation", "finding", "omitted"] as const;
type Category = (typeof CATEGORIES)[number];

/**
 * Renders the snapshot as two flame graphs (root on top, widths by count): the live contexts
 * and operations, then the findings in a section of their own, each weighing what it found, so
 * that nothing counts twice. A function without a name shows where it is
 * (`(anonymous app.js:12)`), a module's top level as `(top level app.js)`. Hover a frame for its
 * function, file:line:column and count; click to zoom, Escape or "Reset zoom" to zoom out; the
 * search box highlights matching frames in both and says what share of the items they hold.
 * Below the graphs, a plain table of the largest stacks reads without script.
 *
 * @example
 * ```ts
 * await writeFile("leaks.html", toFlameGraphHtml(snapshot(), { title: "checkout-service leaks" }));
 * ```
 */
export function toFlameGraphHtml(snapshot: Snapshot, options: FlameGraphOptions = {}): string {
  const fn = "toFlameGraphHtml";
  const o = readOptions(options, fn, ["title", "maxNodes", "maxStacks"]);
  const title = o.string("title", DEFAULT_TITLE, true);
  const maxNodes = o.number("maxNodes", DEFAULT_MAX_NODES, {
    min: 10,
    max: MAX_MAX_NODES,
    integer: true,
  });
  const maxStacks = validMaxStacks(o.raw("maxStacks"), fn);
  // Findings are a graph of their own: a finding is about live items, and drawn with them it
  // would count them twice.
  const live = groupStacks(snapshot, { maxStacks, items: "live" });
  const found = groupStacks(snapshot, { maxStacks, items: "findings" });
  const liveTree = treeOf(live, "all", maxNodes);
  const foundTree = treeOf(found, "all findings", maxNodes);

  const summary = summaryLine(snapshot, liveTree.notDrawn + foundTree.notDrawn);
  const data = jsonForScript({
    summary,
    categories: CATEGORIES,
    charts: [
      { unit: ["item", "items"], ...liveTree.encode() },
      { unit: ["thing found", "things found"], ...foundTree.encode() },
    ],
  });
  const row = (g: StackGroup): string => {
    const leaf = g.frames[0];
    const where =
      leaf === undefined
        ? ""
        : `${functionName(leaf, g.frames.length === 1)} ${frameLocation(leaf)}`;
    return `<tr><td class="n">${g.count}</td><td>${escapeHtml(g.root)}</td><td>${escapeHtml(where)}</td></tr>`;
  };
  const topRows = live.slice(0, TOP_STACKS).map(row);
  const findingRows = found.slice(0, TOP_STACKS).map(row);
  const csp = [
    "default-src 'none'",
    `script-src '${sha256(SCRIPT)}'`,
    `style-src '${sha256(STYLE)}'`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p id="summary">${escapeHtml(summary)}</p>
<div class="controls">
<input id="search" type="search" placeholder="Search functions and files" aria-label="Search functions and files">
<button id="reset" type="button">Reset zoom</button>
<span id="status" aria-live="polite"></span>
</div>
<p class="legend"><span class="sw c-context"></span>contexts <span class="sw c-operation"></span>operations <span class="sw c-finding"></span>findings <span class="sw c-omitted"></span>left out</p>
</header>
<main>
<h2>Live contexts and operations</h2>
<div id="chart" class="chart" role="img" aria-label="Flame graph of live contexts and operations by creation stack"></div>
<h2>Findings</h2>
<p class="note">Each finding weighs what it found (a lost cancel of 50 contexts weighs 50). <span id="findings-status" aria-live="polite"></span></p>
<div id="findings-chart" class="chart" role="img" aria-label="Flame graph of the findings by stack"></div>
<div id="tip" hidden></div>
<h2>Largest stacks</h2>
<table>
<thead><tr><th>count</th><th>what</th><th>innermost frame</th></tr></thead>
<tbody>
${topRows.length === 0 && findingRows.length === 0 ? '<tr><td colspan="3">Nothing tracked: no live contexts, operations or findings.</td></tr>' : [...topRows, ...findingRows].join("\n")}
</tbody>
</table>
</main>
<script type="application/json" id="flame-data">${data}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

interface PathFrame {
  readonly name: string;
  readonly location: string;
}

/** The groups' stacks merged into one tree, root named `rootName`, at most `maxNodes` nodes. */
function treeOf(groups: readonly StackGroup[], rootName: string, maxNodes: number): FlameTree {
  const tree = new FlameTree(maxNodes, rootName);
  for (const g of groups) {
    const path = [{ name: g.root, location: "" }];
    const last = g.frames.length - 1;
    for (let i = last; i >= 0; i--) {
      const frame = g.frames[i];
      if (frame !== undefined)
        path.push({ name: functionName(frame, i === last), location: frameLocation(frame) });
    }
    tree.add(path, g.count, categoryOf(g.item));
  }
  return tree;
}

/** The merged call tree, flattened for the page: five numbers a node, strings in tables. */
class FlameTree {
  readonly #names = new StringIndex();
  readonly #locations = new StringIndex();
  /** name, location, value, parent, category, per node; node 0 is the root "all". */
  readonly #nodes: number[] = [];
  readonly #children: Map<string, number>[] = [];
  readonly #maxNodes: number;
  /** Node counting stacks that did not fit, made on first need. */
  #overflow: number | undefined;
  notDrawn = 0;

  constructor(maxNodes: number, rootName = "all") {
    this.#maxNodes = maxNodes;
    this.#push(rootName, "", -1, 0);
  }

  add(path: readonly PathFrame[], count: number, category: number): void {
    const nodes: number[] = [0];
    let at = 0;
    for (const frame of path) {
      const key = `${frame.name}\u0000${frame.location}`;
      const next = this.#children[at]?.get(key);
      if (next !== undefined) {
        at = next;
      } else if (this.size + (path.length - nodes.length + 1) + 1 <= this.#maxNodes) {
        // The rest of the path fits (with room kept for the overflow frame): make it all.
        const parent = at;
        at = this.#push(frame.name, frame.location, parent, category);
        this.#children[parent]?.set(key, at);
      } else {
        this.#addOverflow(count);
        return;
      }
      nodes.push(at);
    }
    for (const n of nodes) this.#nodes[n * 5 + 2] = (this.#nodes[n * 5 + 2] ?? 0) + count;
  }

  get size(): number {
    return this.#nodes.length / 5;
  }

  encode(): { names: string[]; locations: string[]; nodes: number[] } {
    return { names: this.#names.strings, locations: this.#locations.strings, nodes: this.#nodes };
  }

  #addOverflow(count: number): void {
    this.notDrawn += 1;
    this.#overflow ??= this.#push(
      "[stacks not drawn: maxNodes]",
      "",
      0,
      CATEGORIES.indexOf("omitted"),
    );
    this.#nodes[this.#overflow * 5 + 2] = (this.#nodes[this.#overflow * 5 + 2] ?? 0) + count;
    this.#nodes[2] = (this.#nodes[2] ?? 0) + count;
  }

  #push(name: string, location: string, parent: number, category: number): number {
    const id = this.size;
    this.#nodes.push(this.#names.of(name), this.#locations.of(location), 0, parent, category);
    this.#children.push(new Map());
    return id;
  }
}

class StringIndex {
  readonly strings: string[] = [];
  readonly #index = new Map<string, number>();

  of(s: string): number {
    let i = this.#index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.#index.set(s, i);
    }
    return i;
  }
}

function categoryOf(item: StackItem): number {
  return CATEGORIES.indexOf(item satisfies Category);
}

function summaryLine(snapshot: Snapshot, notDrawn: number): string {
  const parts = [
    `pid ${snapshot.pid}`,
    `taken ${snapshot.takenAtWall}`,
    `${snapshot.contexts.length} live contexts, ${snapshot.operations.length} operations, ${snapshot.findings.length} findings`,
  ];
  const { contexts, operations, findings } = snapshot.omitted;
  if (contexts + operations + findings > 0) {
    parts.push(
      `left out by the tracker: ${contexts} contexts, ${operations} operations, ${findings} findings`,
    );
  }
  if (notDrawn > 0) parts.push(`${notDrawn} stacks not drawn (maxNodes)`);
  return parts.join(" · ");
}

/**
 * @internal Escapes text for HTML element content and double- or single-quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml(`<a href="x">Tom & Jerry's</a>`); // "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * JSON safe inside a `<script>` element: "<" can neither close the element nor open a comment,
 * and U+2028/U+2029 (line terminators in old JavaScript) are escaped too.
 */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function sha256(text: string): string {
  return `sha256-${createHash("sha256").update(text, "utf8").digest("base64")}`;
}

const STYLE = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fff; }
header, main { padding: 0 16px; }
h1 { font-size: 18px; margin: 12px 0 4px; }
h2 { font-size: 15px; margin: 20px 0 6px; }
#summary { margin: 0 0 8px; color: #555; }
.controls { display: flex; gap: 8px; align-items: center; }
#search { width: 320px; padding: 3px 6px; }
#status { color: #555; }
.legend { color: #555; margin: 6px 0; }
.sw { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: -1px; }
.chart { position: relative; width: 100%; overflow: hidden; border-top: 1px solid #ddd; }
.note { color: #555; margin: 0 0 6px; }
.f { position: absolute; height: 17px; box-sizing: border-box; padding: 0 3px; border-right: 1px solid #fff;
  border-bottom: 1px solid #fff; overflow: hidden; white-space: nowrap; text-overflow: ellipsis;
  font: 11px/17px ui-monospace, monospace; cursor: pointer; }
.f.dim { opacity: 0.45; }
.f.match { outline: 2px solid #6a00ff; outline-offset: -2px; }
.c-all { background: #d9d9d9; } .c-context { background: #f2a65a; } .c-operation { background: #7fb2e5; }
.c-finding { background: #e5736b; } .c-omitted { background: #b5b5b5; }
#tip { position: fixed; z-index: 2; max-width: 560px; padding: 6px 8px; background: #222; color: #fff;
  font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; pointer-events: none;
  border-radius: 3px; }
table { border-collapse: collapse; margin-bottom: 24px; }
td, th { text-align: left; padding: 2px 10px 2px 0; font: 12px ui-monospace, monospace; vertical-align: top; }
td.n { text-align: right; }
`;

/* The page's script. Plain ES5-style JavaScript with no dependency; names are only ever set
   through textContent, never parsed as HTML. */
const SCRIPT = String.raw`
(function () {
  "use strict";
  var ROW = 18;
  var MIN_PX = 0.5;
  var data = JSON.parse(document.getElementById("flame-data").textContent);
  var tip = document.getElementById("tip");
  var search = document.getElementById("search");
  var query = "";

  function percent(part, whole) {
    return whole > 0 ? (100 * part / whole).toFixed(1) + "%" : "0%";
  }

  function nodeAt(target) {
    var attr = target && target.getAttribute ? target.getAttribute("data-node") : null;
    return attr === null ? -1 : Number(attr);
  }

  /* One flame graph: the chart element, the element its status goes to, and its data. */
  function Flame(chart, status, d) {
    var nodes = d.nodes;
    var count = nodes.length / 5;
    function nameOf(n) { return d.names[nodes[n * 5]]; }
    function locationOf(n) { return d.locations[nodes[n * 5 + 1]]; }
    function valueOf(n) { return nodes[n * 5 + 2]; }
    function parentOf(n) { return nodes[n * 5 + 3]; }
    function categoryOf(n) { return data.categories[nodes[n * 5 + 4]]; }
    function items(n) { return n + " " + (n === 1 ? d.unit[0] : d.unit[1]); }

    var children = [];
    var i;
    for (i = 0; i < count; i++) children.push([]);
    for (i = 1; i < count; i++) children[parentOf(i)].push(i);
    for (i = 0; i < count; i++) {
      children[i].sort(function (a, b) {
        return valueOf(b) - valueOf(a) || (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0);
      });
    }
    var x = new Float64Array(count);
    var depth = new Int32Array(count);
    var maxDepth = 0;
    var todo = [0];
    while (todo.length > 0) {
      var n = todo.pop();
      var at = x[n];
      for (var c = 0; c < children[n].length; c++) {
        var child = children[n][c];
        x[child] = at;
        depth[child] = depth[n] + 1;
        if (depth[child] > maxDepth) maxDepth = depth[child];
        at += valueOf(child);
        todo.push(child);
      }
    }

    var focus = 0;
    var total = valueOf(0);

    function matches(n) {
      if (query === "") return false;
      return nameOf(n).toLowerCase().indexOf(query) >= 0 || locationOf(n).toLowerCase().indexOf(query) >= 0;
    }

    function draw(n, left, width, frag) {
      var el = document.createElement("div");
      el.className = "f c-" + categoryOf(n) + (matches(n) ? " match" : "");
      el.style.left = left + "px";
      el.style.width = width + "px";
      el.style.top = depth[n] * ROW + "px";
      el.textContent = nameOf(n);
      el.setAttribute("data-node", String(n));
      frag.appendChild(el);
      return el;
    }

    function render() {
      var width = chart.clientWidth;
      var frag = document.createDocumentFragment();
      chart.textContent = "";
      chart.style.height = (maxDepth + 1) * ROW + "px";
      for (var a = parentOf(focus); a >= 0; a = parentOf(a)) draw(a, 0, width, frag).className += " dim";
      var scale = valueOf(focus) > 0 ? width / valueOf(focus) : 0;
      var stack = [focus];
      while (stack.length > 0) {
        var n = stack.pop();
        var w = valueOf(n) * scale;
        if (w < MIN_PX) continue;
        draw(n, (x[n] - x[focus]) * scale, w, frag);
        for (var c = 0; c < children[n].length; c++) stack.push(children[n][c]);
      }
      chart.appendChild(frag);
      updateStatus();
    }

    function updateStatus() {
      if (query === "") {
        status.textContent = items(total) + (focus === 0 ? "" : ", zoomed to " + nameOf(focus));
        return;
      }
      var matched = 0;
      var stack = [0];
      while (stack.length > 0) {
        var n = stack.pop();
        if (matches(n)) { matched += valueOf(n); continue; }
        for (var c = 0; c < children[n].length; c++) stack.push(children[n][c]);
      }
      status.textContent = "matched " + matched + " of " + items(total) + " (" + percent(matched, total) + ")";
    }

    chart.addEventListener("mousemove", function (event) {
      var n = nodeAt(event.target);
      if (n < 0) { tip.hidden = true; return; }
      var lines = [nameOf(n)];
      if (locationOf(n) !== "") lines.push(locationOf(n));
      lines.push(items(valueOf(n)) + ", " + percent(valueOf(n), total) + " of all");
      tip.textContent = lines.join("\n");
      tip.hidden = false;
      var left = Math.min(event.clientX + 12, window.innerWidth - tip.offsetWidth - 4);
      tip.style.left = Math.max(0, left) + "px";
      tip.style.top = event.clientY + 14 + "px";
    });
    chart.addEventListener("mouseleave", function () { tip.hidden = true; });
    chart.addEventListener("click", function (event) {
      var n = nodeAt(event.target);
      if (n >= 0) { focus = n; render(); }
    });

    return { render: render, reset: function () { focus = 0; render(); } };
  }

  var charts = [
    Flame(document.getElementById("chart"), document.getElementById("status"), data.charts[0]),
    Flame(document.getElementById("findings-chart"), document.getElementById("findings-status"), data.charts[1])
  ];
  function each(method) { for (var k = 0; k < charts.length; k++) charts[k][method](); }
  document.getElementById("reset").addEventListener("click", function () { each("reset"); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") each("reset");
  });
  search.addEventListener("input", function () {
    query = search.value.trim().toLowerCase();
    each("render");
  });
  window.addEventListener("resize", function () { each("render"); });
  each("render");
})();
`;
