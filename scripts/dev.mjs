#!/usr/bin/env node
/**
 * `npm start`: the local Outpost stack in one command.
 *
 *   1. the libSQL dev server (scripts/libsql-server) on a free port, data in DATA_DIR/*.db
 *   2. migrations (scripts/migrate.mjs), the agent bundle when stale (scripts/build-agent.mjs) and
 *      Swagger UI (scripts/build-docs-assets.mjs) and the web console when stale (scripts/build-console.mjs)
 *      into the Worker's assets
 *   3. `wrangler dev` on 127.0.0.1:PORT, state in DATA_DIR/wrangler, run with Node ≥ 22
 *   4. a ticker that calls the Worker's scheduled handler (local workerd never fires crons)
 *
 * Environment:
 *   PORT=8787               API port; every other port is picked free, so stacks with different
 *                           PORT and DATA_DIR run side by side
 *   DATA_DIR=.data          database files and wrangler state
 *   DEV_CRON_INTERVAL=60    seconds between scheduled ticks (0 = no ticker); failures are logged
 *   DEV_LOG_TICKS=1         also log every successful tick (`[cron] tick ok`)
 *   DEV_VARS_FILE=.dev.vars dotenv file with API_KEY, MASTER_KEY, ENCRYPTION_KEY: created with random
 *                           values when absent, missing keys appended, existing values kept. wrangler
 *                           reads this file (--env-file) instead of the repo's .dev.vars, so tests can
 *                           point it into their own DATA_DIR
 *   API_KEY, MASTER_KEY, ENCRYPTION_KEY   override the file's values
 *   any setting of src/settings.ts        set in the environment reaches the Worker (`--var`, which
 *                           beats the file), e.g. `WEBHOOK_ALLOW_PRIVATE_IPS=true npm start`.
 *                           LIBSQL_URL / LIBSQL_AUTH_TOKEN always point at the local server.
 *
 * Ctrl-C / SIGTERM / SIGHUP stops everything (wrangler with its whole process group) and exits 0. If a child
 * dies on its own, the rest is stopped and the runner exits 1.
 */
import { resolve } from "node:path";
import { buildAgent, isFresh, publishRelease } from "./build-agent.mjs";
import { buildConsole } from "./build-console.mjs";
import { publishDocsAssets } from "./build-docs-assets.mjs";
import { printBanner } from "./dev/banner.mjs";
import { killNow, node22, portIsFree, running, spawnChild, stopChild, waitForOk } from "./dev/children.mjs";
import { loadConfig, ROOT } from "./dev/config.mjs";
import { applyMigrations } from "./migrate.mjs";

const log = (msg) => process.stderr.write(`[dev] ${msg}\n`);
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {}); // reader gone (EPIPE)

const children = [];
let ticker;
let stopping = null;

/** Stops the ticker, wrangler, then the database, and exits with `code`. */
function shutdown(code, message) {
  if (stopping) return stopping;
  if (message) log(message);
  clearInterval(ticker);
  stopping = (async () => {
    const [wrangler, libsql] = [
      children.find((c) => c.label === "wrangler"),
      children.find((c) => c.label === "libsql"),
    ];
    await stopChild(wrangler, "SIGINT");
    await stopChild(libsql, "SIGTERM");
    process.exit(code);
  })();
  return stopping;
}

let firstSignalAt = 0;
function onSignal(signal) {
  if (!stopping) {
    firstSignalAt = Date.now();
    return shutdown(0, `${signal}: stopping`);
  }
  // npm may forward the terminal's Ctrl-C once more: only a later, deliberate second signal forces.
  if (Date.now() - firstSignalAt < 1000) return;
  log(`${signal} again: killing everything`);
  for (const c of children) killNow(c);
  process.exit(1);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, onSignal);
process.on("exit", () => children.forEach(killNow));

function watch(child) {
  children.push(child);
  child.on("exit", (code, signal) => {
    if (!stopping)
      shutdown(1, `${child.label} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack`);
  });
  child.on("error", (err) => {
    if (!stopping) shutdown(1, `${child.label} failed to start: ${err.message}`);
  });
  return child;
}

/** Starts the libSQL dev server and resolves its URL once it prints it. */
function startLibsql(dataDir) {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error("libSQL dev server did not start within 30 s")), 30_000);
    const script = resolve(ROOT, "scripts/libsql-server/main.mjs");
    const args = [script, "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir];
    watch(
      spawnChild("libsql", process.execPath, args, {
        env: process.env,
        onLine: (line) => {
          const m = line.match(/listening on (http:\/\/\S+)/);
          if (!m) return line;
          clearTimeout(timer);
          res(m[1]);
          return null;
        },
      }),
    );
  });
}

// Noise from `wrangler dev` that the banner replaces.
const WRANGLER_NOISE = [
  /^\s*$/,
  /^Using (secrets|vars) defined in /,
  /^Your Worker has access to the following bindings:/,
  /^Binding\s+Resource\s+Mode/,
  /^env\.\w+ \(/,
  /^⎔ Starting local server/,
  /Scheduled Workers are not automatically triggered/,
  /^\s*To manually trigger a scheduled event, run:/,
  /^\s*curl "http:\/\/[^"]*\/cdn-cgi\/local\/scheduled"/,
  /^\s*For more details, see https:\/\/developers\.cloudflare\.com\/workers\/configuration\/cron-triggers/,
  /^\[wrangler:info\] Ready on /,
];

function startWrangler(config, libsqlUrl) {
  const vars = { ...config.forwarded, LIBSQL_URL: libsqlUrl };
  const args = [
    resolve(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    ...["--config", resolve(ROOT, "wrangler.toml")],
    ...["--ip", "127.0.0.1", "--port", String(config.port), "--inspector-port", "0"],
    ...["--persist-to", resolve(config.dataDir, "wrangler")],
    ...["--env-file", config.devVarsFile],
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const env = {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_LOG_PATH: resolve(config.dataDir, "wrangler/logs"),
    // wrangler's local trace collector streams every invocation (each WebSocket frame, each
    // Durable Object RPC) into a SQLite store on the Worker's own thread: with it on, fan-out to
    // 1,000 agents took 3.4× as long (bench/README.md). Off unless asked for.
    X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY || "false",
  };
  return watch(
    spawnChild("wrangler", node22(), args, {
      env,
      onLine: (line, plain) =>
        WRANGLER_NOISE.some((re) => re.test(plain)) ? null : line.replace(/^\[wrangler:info\] /, ""),
    }),
  );
}

/** Calls the scheduled handler every interval; logs failures (and successes with DEV_LOG_TICKS=1). */
function startTicker(config) {
  if (config.cronIntervalMs <= 0) return;
  const url = `http://127.0.0.1:${config.port}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`;
  let busy = false;
  ticker = setInterval(async () => {
    if (busy || stopping) return;
    busy = true;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      const body = await res.text();
      if (!res.ok) log(`[cron] scheduled tick failed: HTTP ${res.status} ${body.slice(0, 200)}`);
      else if (config.logTicks) process.stdout.write(`[cron] tick ok (HTTP ${res.status})\n`);
    } catch (err) {
      if (!stopping) log(`[cron] scheduled tick failed: ${err.cause?.code ?? err.message}`);
    } finally {
      busy = false;
    }
  }, config.cronIntervalMs);
}

async function main() {
  const config = await loadConfig();
  if (config.devVarsNote) log(config.devVarsNote);
  if (config.ignored.length)
    log(
      `ignoring ${config.ignored.join(", ")} from the environment: the dev stack uses its local libSQL server`,
    );
  if (!(await portIsFree(config.port)))
    throw new Error(`port ${config.port} is in use (set PORT to another port)`);
  const libsqlUrl = await startLibsql(config.dataDir);
  await waitForOk(`${libsqlUrl}/health`, { timeoutMs: 15_000, abort: () => (stopping ? "stopping" : null) });
  await applyMigrations({ url: libsqlUrl });
  // The Worker serves the agent bundle, install script and Swagger UI from its assets.
  if (!(await isFresh())) await publishRelease(await buildAgent());
  await publishDocsAssets();
  await buildConsole();
  if (stopping) return;
  const wrangler = startWrangler(config, libsqlUrl);
  const api = `http://127.0.0.1:${config.port}`;
  await waitForOk(`${api}/health`, {
    abort: () => (stopping ? "stopping" : running(wrangler) ? null : "wrangler exited"),
    onSlow: (last) => log(`still waiting for ${api}/health (last: ${last}); see wrangler's output above`),
  });
  startTicker(config);
  printBanner({ api, libsqlUrl, config });
}

main().catch((err) => {
  if (!stopping) shutdown(1, `startup failed: ${err.message}`);
});
