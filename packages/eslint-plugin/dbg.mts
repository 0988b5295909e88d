import { ESLint, type Linter } from "eslint";
import tseslint from "typescript-eslint";
import timebound from "./src/index.ts";
const sources = ["^timebound(/|$)", "^\\.\\./(core|sync)/"];
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ["**/*.ts"],
      languageOptions: {
        parser: tseslint.parser,
        parserOptions: { projectService: true, tsconfigRootDir: process.cwd() },
      },
    },
    timebound.configs.recommended as Linter.Config,
    {
      rules: {
        "timebound/no-lost-cancel": ["error", { sources }],
        "timebound/no-new-root-context": ["error", { sources }],
      },
    },
  ],
});
const results = await eslint.lintFiles([process.argv[2] ?? "src/lab"]);
for (const r of results)
  for (const m of r.messages)
    console.log(
      `${r.filePath.replace(process.cwd() + "/", "")}:${m.line} ${m.ruleId} ${m.message.slice(0, 110)}`,
    );
