// The "stack is up" banner of the dev runner.
import { relative } from "node:path";
import { ROOT } from "./config.mjs";

/** Path relative to the repo when inside it, else absolute. */
const rel = (p) => {
  const r = relative(ROOT, p);
  return r === "" ? "." : r.startsWith("..") ? p : r;
};

/** Prints URLs, keys, and copy-paste commands for a first cluster, enrollment key and agent. */
export function printBanner({ api, libsqlUrl, config }) {
  const key = config.keys.API_KEY;
  const auth = `-H "Authorization: Bearer ${key}" -H "Content-Type: application/json"`;
  const cron =
    config.cronIntervalMs > 0 ? `every ${config.cronIntervalMs / 1000} s` : "off (DEV_CRON_INTERVAL=0)";
  const line = "─".repeat(72);
  const out = [
    "",
    line,
    " Outpost dev stack is ready",
    line,
    `  API          ${api}/api/v1`,
    `  Console      ${api}/console  (log in with a user, or paste the API_KEY below)`,
    `  Docs         ${api}/swaggerui`,
    `  Health       ${api}/health`,
    `  API_KEY      ${key}`,
    `  MASTER_KEY   ${config.keys.MASTER_KEY}`,
    `  Keys file    ${rel(config.devVarsFile)}`,
    `  Database     ${libsqlUrl}  (data in ${rel(config.dataDir)}/)`,
    `  Cron ticker  ${cron}`,
    `  Settings     ${config.envSettings.length ? config.envSettings.join(", ") : "defaults (set any of src/settings.ts in the environment)"}`,
    "",
    "  Create a cluster and an enrollment key:",
    `    curl -s -X POST ${api}/api/v1/clusters ${auth} -d '{"name":"edge"}'`,
    `    curl -s -X POST ${api}/api/v1/clusters/edge/enrollment_keys ${auth} -d '{}'`,
    "",
    '  Start an agent with the "key" from the answer (its state in DATA_DIR, a random node id):',
    `    ENROLLMENT_KEY=<key> OUTPOST_STATE_DIR=${config.dataDir}/agent-1 OUTPOST_ID_TYPE=random npm run agent`,
    "",
    "  Ctrl-C stops everything.",
    line,
    "",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}
