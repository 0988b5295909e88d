// The README's first line, `npm ci && npx timebound lab`, in a fresh clone: npm ci ends by
// running the checkout's `prepare` (npm's lifecycle order for ci: ..., prepare, postprepare),
// which must build dist/; then npx links the checkout and runs `prepare` once more, which must
// not build it again. The clone is this checkout's files (git's list) with node_modules linked:
// installing is npm's job, what runs after it is ours.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, realpathSync, statSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, run, scratch, shellEnv } from "./packed.js";

/** The checkout's files as a clone would have them: tracked, or new and not ignored. */
function cloneOfCheckout(): string {
  const listed = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
  });
  assert.equal(listed.status, 0, listed.stderr);
  const clone = scratch("clone");
  for (const file of listed.stdout.split("\0")) {
    // node_modules is a link in worktrees (git sees a file); a deleted file is still listed.
    if (file === "" || file === "node_modules" || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(ROOT, file), join(clone, file));
  }
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(clone, "node_modules"), "dir");
  return clone;
}

/** Whether git runs here and this checkout is a git work tree. */
function inGit(): boolean {
  try {
    return run("git", ["rev-parse", "--is-inside-work-tree"], { cwd: ROOT }).status === 0;
  } catch {
    return false; // no git
  }
}

describe("a fresh clone: npm ci && npx timebound lab", () => {
  it(
    "builds dist/ in npm ci's prepare, and npx runs the lab without building again",
    {
      skip: inGit() ? false : "this checkout is not a git clone (no git, or no .git)",
    },
    () => {
      const clone = cloneOfCheckout();
      assert.ok(!existsSync(join(clone, "dist")), "a clone has no dist/");

      const prepare = run("npm", ["run", "prepare"], { cwd: clone, timeoutMs: 300_000 });
      assert.equal(
        prepare.status,
        0,
        `npm run prepare failed:\n${prepare.stdout}${prepare.stderr}`,
      );
      const marker = join(clone, "dist", "cjs", "package.json");
      assert.ok(existsSync(marker), "prepare built dist/");
      const builtAt = statSync(marker).mtimeMs;

      // npx keeps what it installs in npm's cache: a scratch one keeps the user's clean.
      const env = shellEnv({ npm_config_cache: scratch("npm-cache") });
      const lab = run(
        "npx",
        [
          "--offline",
          "timebound",
          "lab",
          "--only",
          "nested-deadlines",
          "--scale",
          "0.05",
          "--json",
        ],
        { cwd: clone, env, timeoutMs: 300_000 },
      );
      assert.equal(lab.status, 0, `npx timebound lab failed:\n${lab.stdout}${lab.stderr}`);
      const report = JSON.parse(lab.stdout) as { scenarios: { id: string }[] };
      assert.deepEqual(
        report.scenarios.map((s) => s.id),
        ["nested-deadlines"],
      );
      assert.equal(statSync(marker).mtimeMs, builtAt, "npx built dist/ again");
    },
  );
});
