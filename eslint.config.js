// @ts-check
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
// The workspace's own plugin, built (npm run lint builds it first: ESLint loads no TypeScript).
import timebound from "eslint-plugin-timebound";

/** Node's timer functions: the library arms timers only through src/core/timer.ts. */
const TIMER_IMPORTS = ["timers", "node:timers", "timers/promises", "node:timers/promises"].map(
  (name) => ({
    name,
    importNames: ["setTimeout", "setInterval"],
    message: "Use startTimer/startInterval from src/core/timer.ts, or sleep(ctx, ms).",
  }),
);

/**
 * Where this repo's code finds timebound: the package, or the library's own modules by relative
 * path (the plugin's rules recognise contexts by where they come from).
 */
const TIMEBOUND_SOURCES = [
  "^timebound(/|$)",
  "^(\\.\\./)+(src/)?(index\\.js$|core/|sync/)",
  "^\\./(derive|index)\\.js$",
];

/** Outside the core, the core is entered only through its three doors (docs/design.md). */
const CORE_DOORS_ONLY = [
  {
    group: ["**/core/*", "!**/core/index.js", "!**/core/internal.js", "!**/core/introspect.js"],
    message:
      "Import the core from core/index.js (public), core/internal.js or core/introspect.js only.",
  },
];

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "lab-output/**",
      "bench/results/**",
      "coverage/**",
      "packages/*/dist/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      // Adapters pass errors through unchanged; wrapping an unknown rejection would lose it.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  {
    // Every timer of the library waits in steps it can hold (setTimeout overflows past 2^31-1 ms
    // and fires after 1 ms): arm them with startTimer/startInterval from src/core/timer.ts.
    files: ["src/**/*.ts"],
    ignores: ["src/core/timer.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        ...["setTimeout", "setInterval"].map((name) => ({
          name,
          message: "Use startTimer/startInterval from src/core/timer.ts: they cap the delay.",
        })),
      ],
      // A default import of a builtin in a .d.ts breaks consumers without esModuleInterop (TS1192).
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportDeclaration[source.value=/^node:/] > ImportDefaultSpecifier",
          message: 'Import builtins by name or as a namespace (import * as x from "node:x").',
        },
      ],
      "no-restricted-imports": ["error", { paths: TIMER_IMPORTS, patterns: CORE_DOORS_ONLY }],
    },
  },
  {
    // Inside the core, its modules import each other freely.
    files: ["src/core/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { paths: TIMER_IMPORTS }] },
  },
  {
    // The project lints itself with its plugin (issue 15): lost cancels, contexts not passed to
    // I/O, roots from nowhere, races that stop nothing. Tests leave contexts to expire on purpose.
    files: [
      "src/**/*.ts",
      "packages/*/src/**/*.ts",
      "bench/**/*.ts",
      "scripts/**/*.ts",
      "examples/**/*.ts",
    ],
    ...timebound.configs.recommended,
  },
  {
    files: [
      "src/**/*.ts",
      "packages/*/src/**/*.ts",
      "bench/**/*.ts",
      "scripts/**/*.ts",
      "examples/**/*.ts",
    ],
    rules: {
      "timebound/no-lost-cancel": ["error", { sources: TIMEBOUND_SOURCES }],
      "timebound/no-new-root-context": ["error", { sources: TIMEBOUND_SOURCES }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: [
      "test/**/*.ts",
      "bench/**/*.ts",
      "examples/**/*.ts",
      "packages/*/test/**/*.ts",
      "packages/*/bench/**/*.ts",
    ],
    rules: {
      // node:test's describe/it return promises the runner tracks itself.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
    },
  },
);
