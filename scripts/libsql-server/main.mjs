#!/usr/bin/env node
// CLI for the local libSQL dev server.
//   node scripts/libsql-server/main.mjs [--port N] [--host H] [--data-dir DIR] [--stream-idle-ms MS] [--verbose]
// Prints one line "libsql dev server listening on http://HOST:PORT" when ready
// and stops cleanly on SIGINT/SIGTERM.

import { parseArgs } from "node:util";
import { startLibsqlServer } from "./server.mjs";

const USAGE =
  "usage: main.mjs [--port N] [--host 127.0.0.1] [--data-dir DIR] [--stream-idle-ms MS] [--verbose]";

/** @param {string} message */
function fail(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

/**
 * @param {string | undefined} value
 * @param {string} name
 * @param {number} fallback
 */
function intOption(value, name, fallback) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    fail(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "stream-idle-ms": { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean" },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const port = intOption(values.port, "port", 8080);
if (port > 65535) fail("--port must be at most 65535");

let server;
try {
  server = await startLibsqlServer({
    host: values.host ?? "127.0.0.1",
    port,
    dataDir: values["data-dir"] ?? (process.env.DATA_DIR || ".data"),
    streamIdleMs: intOption(values["stream-idle-ms"], "stream-idle-ms", 10000),
    log: values.verbose ? (msg) => process.stderr.write(`[libsql] ${msg}\n`) : () => {},
  });
} catch (error) {
  process.stderr.write(`libsql dev server failed to start: ${error.message}\n`);
  process.exit(1);
}
process.stdout.write(`libsql dev server listening on ${server.url}\n`);

let stopping = false;
/** @param {NodeJS.Signals} signal */
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => {
    process.stderr.write("libsql dev server: shutdown timed out\n");
    process.exit(1);
  }, 5000);
  timer.unref();
  try {
    await server.close();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`libsql dev server: error while stopping on ${signal}: ${error.message}\n`);
    process.exit(1);
  }
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
