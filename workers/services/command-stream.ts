import {
  type CommandExecutionView,
  commandExecutionChanges,
  countLiveExecutions,
} from "../../src/command-executions/store";
import type { Database } from "../../src/db/client";
import { isoOrNull } from "../../src/time";
import type { LiveChunk, LiveOutputRead } from "./command-live-output";

/** Pause between polls of the command's executions. */
const POLL_MS = 500;
/**
 * How far back each poll looks before the newest change already sent: rows are written by many
 * sessions and batch writers whose commits can land out of timestamp order, so a window re-reads
 * the recent past and the ids already sent are skipped.
 */
const OVERLAP_MS = 5_000;

/**
 * Running executions whose live output one command stream follows at once: each is a stream from
 * its node's session, so a wide rollout does not open one per target; the others' output comes
 * with their final state.
 */
const LIVE_FOLLOW_LIMIT = 50;

/** A stream event's id: the row's change time and id, the order the stream sends them in. */
function eventId(row: CommandExecutionView): string {
  return `${row.updated_at}-${row.id}`;
}

/**
 * A live `output` event's id: the id of the `sent` state event it follows, then `~` and the chunk's
 * sequence number, so it sorts after that state event and a resume knows the chunks already seen.
 */
function outputEventId(row: CommandExecutionView, seq: number): string {
  return `${eventId(row)}~${seq}`;
}

/** Where a client resumes: the change time of its `Last-Event-ID`, or the beginning. */
export function resumePoint(lastEventId: string | undefined): number {
  const at = Number(lastEventId?.split("-")[0]);
  return Number.isFinite(at) && at > 0 ? at : 0;
}

/** The execution and chunk a `Last-Event-ID` of a live `output` event names, if it is one. */
function resumedChunk(lastEventId: string | undefined): { executionId: string; seq: number } | null {
  const match = lastEventId?.match(/^\d+-(.+)~(\d+)$/);
  return match?.[1] && match[2] ? { executionId: match[1], seq: Number(match[2]) } : null;
}

/** Opens the live output of a running execution (its node's session stream), or null. */
export type FollowLiveOutput = (
  row: CommandExecutionView & { node_id: string },
  after: number,
  onChunk: (chunk: LiveChunk) => void,
) => Promise<LiveOutputRead | null>;

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

function outputFrame(row: CommandExecutionView, { seq, chunk }: LiveChunk): string {
  const data = { execution_id: row.id, node_id: row.node_id, hostname: row.hostname, seq, chunk };
  return `id: ${outputEventId(row, seq)}\nevent: output\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Every execution of a command as Server-Sent Events (C11): one `execution` event per state an
 * execution reaches (its output with the terminal one), each with an `id:` of change time and
 * execution id, so `Last-Event-ID` resumes after the last event seen without repeating it; one
 * `end` event once none is live. Closes after `lifetimeMs` without `end` (the client reconnects).
 *
 * With `follow`, the output of each `sent` execution is also relayed as it arrives: `output` events
 * (`{execution_id, node_id, hostname, seq, chunk}`) read from the node's session, the same chunks
 * the per-execution stream carries. Resuming from an `output` event's id goes on after that chunk
 * for its execution; other running executions replay the chunks their sessions still buffer.
 */
export function commandStream(
  db: Database,
  commandId: string,
  options: { lastEventId?: string; lifetimeMs: number; follow?: FollowLiveOutput },
): Response {
  const sent = new Set<string>();
  // The resumed-from event itself, and every event at the same instant up to it, were seen.
  const last = options.lastEventId;
  let cursor = resumePoint(last);
  const deadline = Date.now() + options.lifetimeMs;
  const encoder = new TextEncoder();
  let stopped = false;
  let closed = false;
  const resumedFrom = resumedChunk(last);
  /** Executions whose live output was followed (or tried): each is followed once. */
  const followed = new Set<string>();
  const reads = new Set<LiveOutputRead>();
  const stopReads = () => {
    for (const read of reads) read.stop();
    reads.clear();
  };

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const close = () => {
        closed = true;
        stopReads();
        controller.close();
      };
      const followLive = (row: CommandExecutionView) => {
        const follow = options.follow;
        const nodeId = row.node_id;
        if (!follow || !nodeId || row.status !== "sent" || followed.has(row.id)) return;
        if (reads.size >= LIVE_FOLLOW_LIMIT) return;
        followed.add(row.id);
        const after = resumedFrom?.executionId === row.id ? resumedFrom.seq : 0;
        void follow({ ...row, node_id: nodeId }, after, (chunk) => send(outputFrame(row, chunk))).then(
          (read) => {
            if (!read) return;
            if (closed) return read.stop();
            reads.add(read);
            void read.done.then(() => reads.delete(read));
          },
        );
      };
      let first = true;
      try {
        for (;;) {
          // The first read takes every row, so executions still running since before a resumed-from
          // event are followed live too.
          const since = first ? 0 : Math.max(0, cursor - OVERLAP_MS);
          first = false;
          const rows = await commandExecutionChanges(db, commandId, since);
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
            send(frame(row));
          }
          if (stopped) return;
          // A row's newest state only: one that went on since is not followed.
          const newest = new Map(rows.map((row) => [row.id, row]));
          for (const row of newest.values()) followLive(row);
          if ((await countLiveExecutions(db, commandId)) === 0 && fresh.length === 0) {
            send(`event: end\ndata: ${JSON.stringify({ command_id: commandId })}\n\n`);
            close();
            return;
          }
          if (Date.now() >= deadline) {
            close();
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      } catch (err) {
        stopReads();
        if (!stopped) controller.error(err);
      }
    },
    cancel() {
      stopped = true;
      closed = true;
      stopReads();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}
