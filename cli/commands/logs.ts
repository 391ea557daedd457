// `outpost logs`: a node's logs through GET /api/v1/nodes/{id}/logs and its SSE twin /logs/stream
// (the remote-operations issue's shape). Those routes are newer than the generated types, so they
// go through rawRequest; a server without them answers 404 "No route", reported as such.
import type { Command } from "commander";
import { type ApiClient, rawRequest } from "../client";
import type { Credentials } from "../config";
import { session } from "../context";
import { ApiFailure, CliError } from "../errors";
import { findNode } from "../nodes-lookup";
import { printJson } from "../output";
import { readEvents } from "../sse";

/** A log entry as the logs routes answer it. */
interface LogEntry {
  id: string;
  timestamp: string;
  node_id: string;
  source: string;
  source_name: string | null;
  level: string | null;
  message: string;
  fields?: Record<string, unknown> | null;
}

interface LogPage {
  data: LogEntry[];
  meta: { pagination?: { has_next?: boolean; next_cursor?: string | null }; scan_budget_exhausted?: boolean };
}

function unsupported(error: unknown): never {
  if (error instanceof ApiFailure && error.status === 404 && /^No route/i.test(error.apiMessage)) {
    throw new CliError(
      `logs are not supported by this server (it has no ${error.apiMessage.replace(/^No route for /i, "")} route); upgrade Outpost`,
    );
  }
  throw error;
}

function formatEntry(entry: LogEntry): string {
  const where = entry.source_name ? `${entry.source}:${entry.source_name}` : entry.source;
  return `${entry.timestamp}  ${(entry.level ?? "-").padEnd(7)}  ${where}  ${entry.message}`;
}

async function follow(
  credentials: Credentials,
  path: string,
  query: URLSearchParams,
  json: boolean,
  signal: AbortSignal,
): Promise<void> {
  let lastId: string | undefined;
  // The server ends a stream at its maximum lifetime; open it again from the last event seen.
  while (!signal.aborted) {
    const res = await rawRequest(credentials, `${path}/stream?${query}`, {
      headers: { Accept: "text/event-stream", ...(lastId ? { "Last-Event-ID": lastId } : {}) },
      signal,
    }).catch((error) => (signal.aborted ? null : unsupported(error)));
    if (!res?.body) return;
    try {
      for await (const event of readEvents(res.body)) {
        if (event.id) lastId = event.id;
        if (event.event === "log") {
          const entry = JSON.parse(event.data) as LogEntry;
          process.stdout.write(json ? `${JSON.stringify(entry)}\n` : `${formatEntry(entry)}\n`);
        } else if (event.event === "dropped") {
          const { count } = JSON.parse(event.data) as { count: number };
          process.stderr.write(`… ${count} lines dropped by the server's rate cap\n`);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}

/** Registers `outpost logs <node> [--follow]`. */
export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("query a node's logs (journald, files, Docker), or follow them live")
    .argument("<node>", "node id or hostname")
    .option("-f, --follow", "keep printing new entries as they arrive")
    .option("--source <source>", "journal, file or docker")
    .option("--source-name <name>", "a unit, a file path or a container")
    .option("--level <levels>", "comma-separated levels (err,warning)")
    .option("-q, --query <text>", "case-insensitive substring")
    .option("--from <time>", "entries at or after (ISO 8601)")
    .option("--to <time>", "entries at or before (ISO 8601)")
    .option("-n, --limit <n>", "how many recent entries to print first", "50")
    .action(async (ref: string, options, command: Command) => {
      const { api, credentials, json } = await session(command);
      const node = await findNode(api as ApiClient, ref);
      const query = new URLSearchParams();
      for (const [flag, param] of [
        ["source", "source"],
        ["sourceName", "source_name"],
        ["level", "level"],
        ["query", "q"],
        ["from", "from"],
        ["to", "to"],
      ] as const) {
        if (options[flag]) query.set(param, options[flag]);
      }
      const path = `/api/v1/nodes/${node.id}/logs`;
      const pageQuery = new URLSearchParams(query);
      pageQuery.set(
        "page_size",
        options.follow ? String(Math.min(Number(options.limit), 10)) : options.limit,
      );
      const page = (await (
        await rawRequest(credentials, `${path}?${pageQuery}`).catch(unsupported)
      ).json()) as LogPage;
      // Newest first from the API; printed oldest first, so the latest line is next to the prompt.
      const entries = [...page.data].reverse();
      if (json && !options.follow) return printJson(page);
      for (const entry of entries)
        process.stdout.write(json ? `${JSON.stringify(entry)}\n` : `${formatEntry(entry)}\n`);
      if (!options.follow) {
        if (page.meta.pagination?.has_next)
          process.stderr.write("(more entries: raise --limit or narrow --from)\n");
        return;
      }
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      await follow(credentials, path, query, json, stop.signal);
    });
}
