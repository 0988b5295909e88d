#!/usr/bin/env node
// The gateway's command; see `timebound-gateway --help`.
import { main } from "../dist/cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
