#!/usr/bin/env node
// Renders the README's configuration table from src/settings.ts (the one list of settings).
// Usage: node scripts/settings-table.mjs          print the table
//        node scripts/settings-table.mjs --write  replace it in README.md (between the settings markers)
// Run with Node ≥ 22 (npm run settings:table), which imports the .ts file directly.
import { readFileSync, writeFileSync } from "node:fs";
import { SETTINGS } from "../src/settings.ts";

const rows = [
  "| Setting | Secret | Default | Description |",
  "|---|---|---|---|",
  ...SETTINGS.map(
    (s) =>
      `| \`${s.name}\` | ${s.secret ? "yes" : "no"} | ${s.default === undefined ? "—" : `\`${s.default}\``} | ${s.description} |`,
  ),
];
const table = rows.join("\n");

if (process.argv.includes("--write")) {
  const readme = new URL("../README.md", import.meta.url);
  const text = readFileSync(readme, "utf8");
  const next = text.replace(
    /<!-- settings:start -->[\s\S]*<!-- settings:end -->/,
    `<!-- settings:start -->\n${table}\n<!-- settings:end -->`,
  );
  writeFileSync(readme, next);
} else {
  console.log(table);
}
