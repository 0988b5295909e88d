import tseslint from "typescript-eslint";
import timebound from "./src/index.ts";
const sources = ["^timebound(/|$)", "^(\\.\\./)+(core|sync)/", "^\\./(derive|index)\\.js$"];
export default [
  { ignores: ["**/dist/**", "node_modules/**", "packages/eslint-plugin/test/fixtures/**"] },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname + "/../.." },
    },
    linterOptions: { reportUnusedDisableDirectives: "off" },
  },
  timebound.configs.strict,
  {
    rules: {
      "timebound/no-lost-cancel": ["error", { sources }],
      "timebound/no-new-root-context": ["error", { sources }],
    },
  },
];
