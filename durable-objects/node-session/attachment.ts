import type { Connection } from "partyserver";
import type { RulesClock } from "./alerts";
import type { HeldSlot } from "./sample-buffer";

/**
 * What a NodeSession keeps in a connection's attachment: the runtime holds it in memory across
 * hibernation without writing it anywhere, while an instance is rebuilt for about every heartbeat.
 */
interface AttachmentState {
  /** Heartbeat samples not yet written, compact (`./held-samples`). */
  heldSamples?: string;
  /** When the connection's last heartbeat's sample was taken. */
  heardAt?: number;
  /** When the cached alert rules are next fetched (`./alerts`). */
  rulesRefreshAt?: number;
}

function stateOf(connection: Connection | undefined): AttachmentState | null {
  return (connection?.state as AttachmentState | null | undefined) ?? null;
}

function update(connection: Connection, change: AttachmentState): void {
  connection.setState({ ...(connection.state as object), ...change } satisfies AttachmentState);
}

/** A connection's attachment as the place its held samples live. */
export function heldSlot(connection: Connection): HeldSlot {
  return {
    read: () => stateOf(connection)?.heldSamples,
    write: (held) => {
      if (stateOf(connection)?.heldSamples !== held) update(connection, { heldSamples: held });
    },
  };
}

/** Notes when `connection`'s latest heartbeat was sampled. */
export function markHeard(connection: Connection, at: number): void {
  update(connection, { heardAt: at });
}

/** When the live connection's latest heartbeat was sampled (0: none known). */
export function heardAt(connection: Connection | undefined): number {
  return stateOf(connection)?.heardAt ?? 0;
}

/**
 * The alert rules' refresh time, kept in the live connection's attachment; without a live
 * connection (alarm, close) in this instance only.
 */
export function rulesClock(liveConnection: () => Connection | undefined): RulesClock {
  let local: number | undefined;
  return {
    refreshAt: () => stateOf(liveConnection())?.rulesRefreshAt ?? local,
    setRefreshAt: (at) => {
      local = at;
      const conn = liveConnection();
      if (conn) update(conn, { rulesRefreshAt: at });
    },
  };
}
