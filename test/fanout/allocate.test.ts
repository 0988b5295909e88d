// allocateBudget and shareUnused: the seed's rule, its open questions as settled, and the
// properties that make it safe (never more than the time available, monotone, conserving).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { background, now, withTimeout } from "../../src/index.js";
import { moveDeadline, withBudget } from "../../src/core/internal.js";
import { type DependencyInput, allocateBudget, shareUnused } from "../../src/fanout/index.js";

const EPS = 1e-6;

const dep: fc.Arbitrary<Omit<DependencyInput, "name">> = fc.record({
  p95Ms: fc.option(fc.double({ min: 0, max: 5_000, noNaN: true }), { nil: undefined }),
  weight: fc.double({ min: 0.001, max: 100, noNaN: true }),
  loadFactor: fc.double({ min: 0.1, max: 10, noNaN: true }),
});
const deps = fc
  .array(dep, { minLength: 1, maxLength: 8 })
  .map((list) => list.map((d, i): DependencyInput => ({ ...d, name: `d${i}` })));
const total = fc.double({ min: 0.01, max: 60_000, noNaN: true });
const mode = fc.constantFrom("proportional" as const, "parallel" as const);

describe("allocateBudget", () => {
  it("is the seed's rule: total × raw / Σ raw, after the reserve", () => {
    const a = allocateBudget(305, [
      { name: "auth", p95Ms: 80, weight: 0.3, loadFactor: 1.4 },
      { name: "catalog", p95Ms: 120, weight: 0.5, loadFactor: 1 },
    ]);
    const raw = [80 * 0.3 * 1.4, 120 * 0.5];
    const sum = raw[0]! + raw[1]!;
    assert.equal(a.reserveMs, 5);
    assert.equal(a.availableMs, 300);
    assert.ok(Math.abs(a.byName.auth! - (300 * raw[0]!) / sum) < EPS, `auth ${a.byName.auth}`);
    assert.ok(Math.abs(a.byName.catalog! - (300 * raw[1]!) / sum) < EPS, "catalog");
  });

  it("gives a dependency without history the slowest known P95, or the configured prior", () => {
    const a = allocateBudget(1_000, [
      { name: "known", p95Ms: 100 },
      { name: "slow", p95Ms: 300 },
      { name: "new", p95Ms: undefined },
    ]);
    assert.equal(a.budgets[2]!.prior, true);
    assert.equal(a.budgets[2]!.p95Ms, 300, "as slow as the slowest known");
    const b = allocateBudget(1_000, [{ name: "new" }, { name: "known", p95Ms: 100 }], {
      priorP95Ms: 50,
    });
    assert.equal(b.budgets[0]!.p95Ms, 50);
    const none = allocateBudget(100, [
      { name: "a", weight: 1 },
      { name: "b", weight: 3 },
    ]);
    assert.ok(Math.abs(none.byName.b! - 3 * none.byName.a!) < EPS, "weights decide alone");
  });

  it("keeps the reserve, at most half of a small total", () => {
    assert.equal(allocateBudget(6, [{ name: "a", p95Ms: 1 }]).reserveMs, 3);
    assert.equal(allocateBudget(6, [{ name: "a", p95Ms: 1 }], { reserveMs: 0 }).availableMs, 6);
  });

  it("honours floors and caps, giving what a cap leaves to the others", () => {
    const a = allocateBudget(105, [
      { name: "a", p95Ms: 100, capMs: 20 },
      { name: "b", p95Ms: 100 },
      { name: "c", p95Ms: 1, floorMs: 30 },
    ]);
    assert.equal(a.byName.a, 20);
    assert.equal(a.budgets[0]!.bound, "cap");
    assert.equal(a.byName.c, 30);
    assert.equal(a.budgets[2]!.bound, "floor");
    assert.ok(Math.abs(a.byName.b! - 50) < EPS, `b gets the rest: ${a.byName.b}`);
  });

  it("scales floors down when they alone exceed the time available", () => {
    const a = allocateBudget(
      25,
      [
        { name: "a", p95Ms: 1, floorMs: 20 },
        { name: "b", p95Ms: 1, floorMs: 20 },
      ],
      { reserveMs: 5 },
    );
    assert.equal(a.byName.a, 10);
    assert.equal(a.byName.b, 10);
  });

  it("parallel mode: the largest share gets all the time, no call below its P95 when it fits", () => {
    const a = allocateBudget(
      205,
      [
        { name: "slow", p95Ms: 150 },
        { name: "fast", p95Ms: 30 },
      ],
      { mode: "parallel" },
    );
    assert.equal(a.byName.slow, 200);
    assert.ok(Math.abs(a.byName.fast! - 40) < EPS, `fast ${a.byName.fast}`);
    assert.ok(a.byName.fast! >= 30, "not cut below its own P95");
  });

  it("never hands out more than the total minus the reserve (fast-check)", () => {
    fc.assert(
      fc.property(total, deps, mode, (t, list, m) => {
        const a = allocateBudget(t, list, { mode: m });
        assert.ok(Math.abs(a.availableMs - (t - a.reserveMs)) < EPS, "available");
        for (const b of a.budgets) {
          assert.ok(b.budgetMs >= 0 && b.budgetMs <= a.availableMs + EPS, `budget ${b.budgetMs}`);
        }
        if (m === "proportional") {
          const sum = a.budgets.reduce((s, b) => s + b.budgetMs, 0);
          assert.ok(sum <= a.availableMs + EPS, `sum ${sum} > ${a.availableMs}`);
          assert.ok(sum >= a.availableMs - EPS * a.availableMs - EPS, `sum ${sum} < available`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("with floors and caps, still never more than available (fast-check)", () => {
    const bounded = fc
      .array(
        fc.record({
          p95Ms: fc.double({ min: 0, max: 1_000, noNaN: true }),
          floorMs: fc.double({ min: 0, max: 100, noNaN: true }),
          extra: fc.double({ min: 0, max: 1_000, noNaN: true }),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((l) =>
        l.map((d, i) => ({
          name: `d${i}`,
          p95Ms: d.p95Ms,
          floorMs: d.floorMs,
          capMs: d.floorMs + d.extra,
        })),
      );
    fc.assert(
      fc.property(total, bounded, mode, (t, list, m) => {
        const a = allocateBudget(t, list, { mode: m });
        const sum = a.budgets.reduce((s, b) => s + b.budgetMs, 0);
        if (m === "proportional") assert.ok(sum <= a.availableMs + EPS, `sum ${sum}`);
        a.budgets.forEach((b, i) => {
          assert.ok(b.budgetMs <= Math.min(list[i]!.capMs, a.availableMs) + EPS, "cap");
          assert.ok(b.budgetMs <= a.availableMs + EPS, "available");
        });
      }),
      { numRuns: 300 },
    );
  });

  for (const field of ["weight", "p95Ms"] as const) {
    it(`a budget never shrinks when its ${field} grows (fast-check)`, () => {
      fc.assert(
        fc.property(
          total,
          deps,
          mode,
          fc.nat(),
          fc.double({ min: 1, max: 10, noNaN: true }),
          (t, list, m, pick, factor) => {
            const i = pick % list.length;
            const base = list.map((d) => ({ ...d, p95Ms: d.p95Ms ?? 50 }));
            const grown = base.map((d, k) =>
              k === i ? { ...d, [field]: (d[field] ?? 1) * factor + 0.001 } : d,
            );
            const before = allocateBudget(t, base, { mode: m }).budgets[i]!.budgetMs;
            const after = allocateBudget(t, grown, { mode: m }).budgets[i]!.budgetMs;
            assert.ok(after >= before - EPS * Math.max(1, before), `${after} < ${before}`);
          },
        ),
        { numRuns: 500 },
      );
    });
  }

  it("refuses bad input with messages that name the value", () => {
    const ok = [{ name: "a", p95Ms: 10 }];
    const cases: [() => unknown, RegExp][] = [
      [
        () => allocateBudget(0, ok),
        /allocateBudget: totalMs must be more than 0 milliseconds, got 0/,
      ],
      [() => allocateBudget(-5, ok), /allocateBudget: totalMs must be .* got -5/],
      [() => allocateBudget(Number.NaN, ok), /allocateBudget: totalMs must be .* got NaN/],
      [() => allocateBudget(100, []), /allocateBudget: deps must be a non-empty array/],
      [
        () => allocateBudget(100, [{ name: "a", p95Ms: 10, weight: 0 }]),
        /deps\[0\]\.weight must be a number above 0, got 0/,
      ],
      [
        () => allocateBudget(100, [{ name: "a", p95Ms: 10, weight: -1 }]),
        /deps\[0\]\.weight must be .* got -1/,
      ],
      [
        () => allocateBudget(100, [{ name: "a", p95Ms: Number.NaN }]),
        /deps\[0\]\.p95Ms .* got NaN/,
      ],
      [
        () => allocateBudget(100, [{ name: "a", p95Ms: 1, loadFactor: Number.NaN }]),
        /deps\[0\]\.loadFactor .* got NaN/,
      ],
      [
        () => allocateBudget(100, [{ name: "a", p95Ms: 1, floorMs: 50, capMs: 10 }]),
        /floorMs 50 above its capMs 10/,
      ],
      [() => allocateBudget(100, [...ok, ...ok]), /deps\[1\]\.name "a" is given twice/],
      [
        () => allocateBudget(100, ok, { mode: "fair" as "parallel" }),
        /options\.mode must be one of "proportional", "parallel"/,
      ],
      [() => allocateBudget(100, ok, { reserve: 5 } as never), /unknown option options\.reserve/],
    ];
    for (const [call, message] of cases) {
      assert.throws(call, (err: unknown) => {
        assert.ok(
          err instanceof TypeError || err instanceof RangeError,
          `error class ${String(err)}`,
        );
        assert.match(err.message, message);
        return true;
      });
    }
  });
});

describe("shareUnused (drift compensation)", () => {
  it("shares in proportion to the raw shares", () => {
    const r = shareUnused(
      30,
      [
        { raw: 1, deadline: 100 },
        { raw: 2, deadline: 100 },
      ],
      1_000,
    );
    assert.deepEqual(r, { addMs: [10, 20], unallocatedMs: 0 });
  });

  it("gives what the limit stops to the others, and keeps what nobody can take", () => {
    const r = shareUnused(
      30,
      [
        { raw: 1, deadline: 995 },
        { raw: 1, deadline: 900 },
      ],
      1_000,
    );
    assert.deepEqual(r.addMs, [5, 25]);
    const full = shareUnused(30, [{ raw: 1, deadline: 1_000 }], 1_000);
    assert.deepEqual(full, { addMs: [0], unallocatedMs: 30 });
  });

  const running = fc.array(
    fc.record({
      raw: fc.double({ min: 0.001, max: 1_000, noNaN: true }),
      deadline: fc.double({ min: 0, max: 10_000, noNaN: true }),
    }),
    { maxLength: 8 },
  );

  it("conserves the time and never passes the limit (fast-check)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 10_000, noNaN: true }), running, (unused, list) => {
        const limit = 10_000;
        const { addMs, unallocatedMs } = shareUnused(unused, list, limit);
        const given = addMs.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(given + unallocatedMs - unused) < EPS, "nothing made or lost");
        addMs.forEach((add, i) => {
          assert.ok(add >= 0, "no deadline moves earlier");
          assert.ok(list[i]!.deadline + add <= limit + EPS, "never past the limit");
        });
      }),
      { numRuns: 500 },
    );
  });

  it("moving real budget contexts by it conserves the total and stops at the parent's deadline (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ms: fc.integer({ min: 1, max: 9_000 }),
            raw: fc.integer({ min: 1, max: 50 }),
          }),
          {
            minLength: 2,
            maxLength: 8,
          },
        ),
        fc.array(fc.nat(), { minLength: 1, maxLength: 7 }),
        (calls, finishes) => {
          using parent = withTimeout(background(), 10_000);
          const limit = parent.deadline!;
          const live = calls.map((c) => ({ ctx: withBudget(parent, c.ms), raw: c.raw }));
          for (const pick of finishes) {
            if (live.length < 2) break;
            const [done] = live.splice(pick % live.length, 1);
            const unused = done!.ctx.deadline! - now();
            done!.ctx.cancel();
            const before = live.map((c) => c.ctx.deadline!);
            const { addMs } = shareUnused(
              unused,
              live.map((c, i) => ({ raw: c.raw, deadline: before[i]! })),
              limit,
            );
            let moved = 0;
            live.forEach((c, i) => {
              const after = moveDeadline(c.ctx, before[i]! + addMs[i]!);
              assert.ok(after <= limit, "never past the parent's deadline");
              assert.ok(after >= before[i]!, "never earlier");
              moved += after - before[i]!;
            });
            assert.ok(moved <= Math.max(0, unused) + EPS, `moved ${moved} > unused ${unused}`);
          }
          for (const c of live) c.ctx.cancel();
        },
      ),
      { numRuns: 200 },
    );
  });
});
