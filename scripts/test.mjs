#!/usr/bin/env node
// `npm test`: the whole suite in two Vitest processes side by side, the e2e project in one and the
// unit and integration projects in the other. Vitest runs a project whose files may not overlap
// (e2e: `fileParallelism: false`) in a group of its own after the others, and on a 2-core machine
// it gives every project one worker, so one Vitest process ran the three projects one after the
// other (~10 min) while a core sat mostly idle waiting on agents, shells and wrangler dev.
//
// Usage: node scripts/test.mjs [--json FILE] [vitest args…]
//   With file filters or --project, this is plain `vitest run` with those arguments.
//   --json FILE writes one Vitest JSON report merged from both processes.
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAgent, isFresh, publishRelease } from "./build-agent.mjs";
import { buildConsole } from "./build-console.mjs";
import { publishDocsAssets } from "./build-docs-assets.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const VITEST = join(ROOT, "node_modules/vitest/vitest.mjs");

const args = process.argv.slice(2);
const jsonAt = args.indexOf("--json");
const jsonFile = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : null;

/** One Vitest run; resolves with its exit code. Lines are prefixed when two runs share the terminal. */
function vitest(vitestArgs, label) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VITEST, "run", ...vitestArgs], {
      cwd: ROOT,
      // The assets are built once below: the projects' global setups then find them fresh.
      env: { ...process.env, OUTPOST_TEST_ASSETS_BUILT: "1" },
      stdio: label ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    if (label) {
      for (const [from, to] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ]) {
        let rest = "";
        from.setEncoding("utf8");
        from.on("data", (text) => {
          const lines = (rest + text).split("\n");
          rest = lines.pop() ?? "";
          for (const line of lines) to.write(`[${label}] ${line}\n`);
        });
        from.on("end", () => rest && to.write(`[${label}] ${rest}\n`));
      }
    }
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const filtered = args.some((a) => !a.startsWith("-") || a === "--project" || a.startsWith("--project="));
if (filtered) {
  const reportArgs = jsonFile
    ? ["--reporter=default", "--reporter=json", `--outputFile.json=${jsonFile}`]
    : [];
  process.exit(await vitest([...args, ...reportArgs], null));
}

// Built here once, not by each process's global setup at the same time.
if (!(await isFresh())) await publishRelease(await buildAgent());
await publishDocsAssets();
await buildConsole();

const parts = [
  { label: "e2e", projects: ["e2e"] },
  { label: "unit+integration", projects: ["unit", "integration"] },
];
const reportDir = join(ROOT, "test-results/parts");
await rm(reportDir, { recursive: true, force: true });
await mkdir(reportDir, { recursive: true });
const codes = await Promise.all(
  parts.map((part) =>
    vitest(
      [
        ...part.projects.flatMap((p) => ["--project", p]),
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${join(reportDir, `${part.label}.json`)}`,
        ...args,
      ],
      part.label,
    ),
  ),
);

const reports = [];
for (const part of parts) {
  const text = await readFile(join(reportDir, `${part.label}.json`), "utf8").catch(() => null);
  if (text) reports.push(JSON.parse(text));
  else console.error(`[${part.label}] wrote no JSON report`);
}
const merged = mergeReports(reports);
if (jsonFile) {
  await mkdir(dirname(jsonFile), { recursive: true });
  await writeFile(jsonFile, JSON.stringify(merged));
}
const seconds = ((Date.now() - merged.startTime) / 1000).toFixed(0);
console.log(
  `\nAll projects: ${merged.numPassedTests} passed, ${merged.numFailedTests} failed, ${merged.numPendingTests} skipped (${merged.testResults.length} files) (${seconds} s)`,
);
process.exit(codes.some((c) => c !== 0) || reports.length < parts.length ? 1 : 0);

/** Vitest's JSON reports (Jest's shape) as one: counts summed, results concatenated. */
function mergeReports(list) {
  const out = { testResults: [], success: list.length > 0, startTime: Date.now() };
  for (const r of list) {
    for (const [key, value] of Object.entries(r))
      if (typeof value === "number" && key !== "startTime") out[key] = (out[key] ?? 0) + value;
    out.startTime = Math.min(out.startTime, r.startTime ?? out.startTime);
    out.success &&= r.success !== false;
    out.testResults.push(...(r.testResults ?? []));
  }
  for (const key of ["numPassedTests", "numFailedTests", "numPendingTests", "numTotalTestSuites"])
    out[key] ??= 0;
  return out;
}
