#!/usr/bin/env node
// Prints the README's configuration table from src/settings.ts (the one list of settings).
// Usage: node scripts/settings-table.mjs   (run with Node ≥ 22, e.g. via npm run settings:table)
import { SETTINGS } from "../src/settings.ts";

console.log("| Setting | Secret | Default | Description |");
console.log("|---|---|---|---|");
for (const s of SETTINGS) {
  console.log(
    `| \`${s.name}\` | ${s.secret ? "yes" : "no"} | ${s.default === undefined ? "—" : `\`${s.default}\``} | ${s.description} |`,
  );
}
