// The package as `npm pack` makes it, and scratch consumer projects that install it the way npm
// would, offline: the tarball is extracted into node_modules/timebound and the runtime dependencies
// and the optional peers a test needs are linked from this checkout's node_modules.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** One entry of `npm pack --json`. */
export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

export interface Packed {
  /** The .tgz npm wrote. */
  readonly tarball: string;
  /** The tarball extracted (its `package/` folder). */
  readonly dir: string;
  readonly files: readonly PackedFile[];
  /** Bytes of the .tgz, and of the files it holds. */
  readonly size: number;
  readonly unpackedSize: number;
  /** The package.json inside the tarball. */
  readonly manifest: Record<string, unknown>;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * This process's environment without what an enclosing `npm test` adds (npm_config_*,
 * npm_package_*, INIT_CWD...): the commands run as from a user's shell.
 */
export function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== "INIT_CWD") env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end (bounded), output captured, in {@link shellEnv} unless told. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Run {
  const r = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? shellEnv(),
    encoding: "utf8",
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary folder, removed when the process exits. */
export function scratch(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `timebound-${name}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Holds a lock while `fn` runs: npm's prepack/postpack hooks rewrite this checkout's package.json,
 * so two test files packing at once would trample each other. The lock is a folder holding the
 * holder's pid; a lock whose holder is gone is taken over.
 */
export function withPackLock<T>(fn: () => T): T {
  const id = createHash("sha1").update(ROOT).digest("hex").slice(0, 12);
  const lock = join(tmpdir(), `timebound-pack-${id}.lock`);
  const deadline = Date.now() + 120_000;
  while (!tryLock(lock)) {
    if (!holderAlive(lock)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`pack lock ${lock} held for 2 minutes`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Takes the lock if it is free: false when another process holds it. */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  writeFileSync(join(lock, "pid"), String(process.pid));
  return true;
}

/** Whether the process that wrote the lock's pid still runs. */
function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, "pid"), "utf8"));
  } catch {
    return true; // just created, pid not written yet
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let packed: Packed | undefined;

/** Packs this checkout with `npm pack` (hooks included), once per test process. */
export function pack(): Packed {
  if (packed !== undefined) return packed;
  const out = scratch("pack");
  const r = withPackLock(() =>
    run("npm", ["pack", "--json", "--pack-destination", out], { cwd: ROOT }),
  );
  if (r.status !== 0) throw new Error(`npm pack failed (${r.status}):\n${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as [
    { filename: string; size: number; unpackedSize: number; files: PackedFile[] },
  ];
  const tarball = join(out, info.filename);
  const extracted = join(out, "extracted");
  mkdirSync(extracted);
  const x = run("tar", ["-xzf", tarball, "-C", extracted], { cwd: out });
  if (x.status !== 0) throw new Error(`tar failed: ${x.stderr}`);
  const dir = join(extracted, "package");
  packed = {
    tarball,
    dir,
    files: info.files,
    size: info.size,
    unpackedSize: info.unpackedSize,
    manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<
      string,
      unknown
    >,
  };
  return packed;
}

/** Links `name` (e.g. "pg", "@types/node") from this checkout's node_modules into `project`. */
function linkFromCheckout(project: string, name: string): void {
  const target = realpathSync(join(ROOT, "node_modules", name));
  const link = join(project, "node_modules", name);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, "dir");
}

/**
 * A scratch project with the packed timebound installed: extracted into
 * node_modules/timebound, its runtime dependencies and the given `links` (optional peers,
 * type packages) linked from this checkout. `files` are written into the project.
 */
export function consumer(
  name: string,
  options: { links?: readonly string[]; files?: Readonly<Record<string, string>> } = {},
): string {
  const { tarball } = pack();
  const project = scratch(`consumer-${name}`);
  const target = join(project, "node_modules", "timebound");
  mkdirSync(target, { recursive: true });
  const x = run("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"], { cwd: project });
  if (x.status !== 0) throw new Error(`tar failed: ${x.stderr}`);
  const dependencies = Object.keys(
    (pack().manifest.dependencies as Record<string, string> | undefined) ?? {},
  );
  for (const dep of [...dependencies, ...(options.links ?? [])]) linkFromCheckout(project, dep);
  for (const [file, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(project, file)), { recursive: true });
    writeFileSync(join(project, file), text);
  }
  return project;
}

/** The subpaths of the packed package.json's "exports" that are modules (not package.json). */
export function moduleSubpaths(): string[] {
  const exports = pack().manifest.exports as Record<string, unknown>;
  return Object.keys(exports).filter((subpath) => subpath !== "./package.json");
}

/** `timebound` for ".", `timebound/http` for "./http". */
export function specifier(subpath: string): string {
  return subpath === "." ? "timebound" : `timebound/${subpath.slice(2)}`;
}
