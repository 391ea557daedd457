import {
  type CommandExecutionView,
  commandExecutionChanges,
  countLiveExecutions,
} from "../../src/command-executions/store";
import type { Database } from "../../src/db/client";
import { isoOrNull } from "../../src/time";

/** Pause between polls of the command's executions. */
const POLL_MS = 500;
/**
 * How far back each poll looks before the newest change already sent: rows are written by many
 * sessions and batch writers whose commits can land out of timestamp order, so a window re-reads
 * the recent past and the ids already sent are skipped.
 */
const OVERLAP_MS = 5_000;

/** A stream event's id: the row's change time and id, the order the stream sends them in. */
function eventId(row: CommandExecutionView): string {
  return `${row.updated_at}-${row.id}`;
}

/** Where a client resumes: the change time of its `Last-Event-ID`, or the beginning. */
export function resumePoint(lastEventId: string | undefined): number {
  const at = Number(lastEventId?.split("-")[0]);
  return Number.isFinite(at) && at > 0 ? at : 0;
}

function frame(row: CommandExecutionView): string {
  const data = {
    execution_id: row.id,
    node_id: row.node_id,
    hostname: row.hostname,
    status: row.status,
    exit_code: row.exit_code,
    output: row.output,
    started_at: isoOrNull(row.started_at),
    duration_ms: row.duration_ms,
  };
  return `id: ${eventId(row)}\nevent: execution\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Every execution of a command as Server-Sent Events (C11): one `execution` event per state an
 * execution reaches (its output with the terminal one), each with an `id:` of change time and
 * execution id, so `Last-Event-ID` resumes after the last event seen without repeating it; one
 * `end` event once none is live. Closes after `lifetimeMs` without `end` (the client reconnects).
 */
export function commandStream(
  db: Database,
  commandId: string,
  options: { lastEventId?: string; lifetimeMs: number },
): Response {
  const sent = new Set<string>();
  // The resumed-from event itself, and every event at the same instant up to it, were seen.
  const last = options.lastEventId;
  let cursor = resumePoint(last);
  const deadline = Date.now() + options.lifetimeMs;
  const encoder = new TextEncoder();
  let stopped = false;

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for (;;) {
          const rows = await commandExecutionChanges(db, commandId, Math.max(0, cursor - OVERLAP_MS));
          const fresh = rows.filter((row) => {
            const id = eventId(row);
            if (sent.has(id)) return false;
            // Resumed: anything at or before the client's last event was delivered before.
            if (
              last &&
              (row.updated_at < resumePoint(last) || (row.updated_at === resumePoint(last) && id <= last))
            )
              return false;
            return true;
          });
          for (const row of fresh) {
            sent.add(eventId(row));
            cursor = Math.max(cursor, row.updated_at);
            controller.enqueue(encoder.encode(frame(row)));
          }
          if (stopped) return;
          if ((await countLiveExecutions(db, commandId)) === 0 && fresh.length === 0) {
            controller.enqueue(
              encoder.encode(`event: end\ndata: ${JSON.stringify({ command_id: commandId })}\n\n`),
            );
            controller.close();
            return;
          }
          if (Date.now() >= deadline) {
            controller.close();
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      } catch (err) {
        if (!stopped) controller.error(err);
      }
    },
    cancel() {
      stopped = true;
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}
