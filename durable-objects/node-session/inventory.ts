import type { Connection } from "partyserver";
import * as v from "valibot";
import type { Database } from "../../src/db/client";
import {
  answerRefreshStatement,
  type InventoryReport,
  storeChangedSection,
  storedHashes,
} from "../../src/inventory/report";
import { encodeServerFrame } from "../../src/protocol/frames";
import {
  INVENTORY_CAPABILITY,
  type InventoryChunkFrame,
  InventoryFrame,
} from "../../src/protocol/inventory-frames";
import type { InventorySection } from "../../src/protocol/inventory-sections";
import type { InventoryChunks } from "./inventory-chunks";
import type { SessionStore } from "./store";
import { loadUpdatesOnHello, rememberUpdates } from "./updates-alerts";

// The node's side of inventory sync. The object keeps the content hash of every stored section in
// its own storage, so an agent re-reporting unchanged content is acked without touching libSQL:
// a steady fleet costs no database writes (nor reads) for inventory.

const HASHES_KEY = "inventory_hashes";

/** What an operator's refresh asks of the agent. */
export interface InventoryAsk {
  requestId?: string;
  sections?: InventorySection[];
  refreshCache?: boolean;
}

const CAPABLE_KEY = "inventory_capable";

/**
 * At hello: remembers whether the agent speaks the inventory frames (an older one would answer
 * `inventory_request` with an error); if it does, reads the hashes libSQL holds for this node (the
 * source of truth; the object's copy could predate a restore) and asks for every section whose
 * content differs. The `updates` facts the alert rules watch are read with the hashes.
 */
export async function syncInventoryOnHello(
  db: Database,
  store: SessionStore,
  nodeId: string,
  conn: Connection,
  capabilities: readonly string[],
): Promise<void> {
  const capable = capabilities.includes(INVENTORY_CAPABILITY);
  store.set(CAPABLE_KEY, capable);
  if (!capable) return;
  const [hashes] = await Promise.all([storedHashes(db, nodeId), loadUpdatesOnHello(db, store, nodeId)]);
  store.set(HASHES_KEY, hashes);
  conn.send(
    encodeServerFrame({
      type: "inventory_request",
      known_hashes: hashes,
      refresh_cache: false,
      accepts_chunks: true,
    }),
  );
}

/**
 * Sends an operator's refresh to a connected agent; every asked section comes back (changed or
 * not). `unsupported` when the connected agent did not announce the inventory capability.
 */
export function askForInventory(
  store: SessionStore,
  conn: Connection,
  ask: InventoryAsk,
): "sent" | "unsupported" {
  if (store.get<boolean>(CAPABLE_KEY) !== true) return "unsupported";
  conn.send(
    encodeServerFrame({
      type: "inventory_request",
      request_id: ask.requestId,
      sections: ask.sections && ask.sections.length > 0 ? ask.sections : undefined,
      refresh_cache: ask.refreshCache ?? false,
      accepts_chunks: true,
    }),
  );
  return "sent";
}

/**
 * One `inventory` frame: stored only when its hash differs from the stored one; an unchanged
 * section that answers a refresh request only marks the request's target answered. Acked either way.
 */
export async function receiveInventory(
  db: Database,
  store: SessionStore,
  nodeId: string,
  conn: Connection,
  report: InventoryReport,
): Promise<void> {
  const hashes = store.get<Record<string, string>>(HASHES_KEY) ?? {};
  if (hashes[report.section] !== report.content_hash) {
    await storeChangedSection(db, nodeId, report);
    store.set(HASHES_KEY, { ...hashes, [report.section]: report.content_hash });
    rememberUpdates(store, report);
  } else if (report.request_id) {
    await answerRefreshStatement(db, nodeId, report.request_id, Date.now());
  }
  conn.send(
    encodeServerFrame({ type: "inventory_ack", section: report.section, content_hash: report.content_hash }),
  );
}

/**
 * One `inventory_chunk` frame: kept until its section is whole, then handled as one `inventory`
 * frame (validated against the section's schema like any other). Slices of content already stored
 * are not kept; the last of them settles the report (ack, and the refresh request it answers). An
 * incomplete section is never acked, so the agent sends it again at its next report.
 */
export async function receiveInventoryChunk(
  db: Database,
  store: SessionStore,
  chunks: InventoryChunks,
  nodeId: string,
  conn: Connection,
  frame: v.InferOutput<typeof InventoryChunkFrame>,
): Promise<void> {
  const { index, count, data, type: _type, ...rest } = frame;
  const report = { ...rest, type: "inventory" as const, status: "ok" as const };
  const hashes = store.get<Record<string, string>>(HASHES_KEY) ?? {};
  if (hashes[frame.section] === frame.content_hash) {
    if (index === count - 1) await receiveInventory(db, store, nodeId, conn, { ...report, data: {} });
    return;
  }
  const assembly = chunks.add(frame);
  if (assembly.state === "incomplete") return;
  if (assembly.state === "inconsistent") {
    refuse(conn, `slices of the ${frame.section} section dropped: ${assembly.reason}`);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(assembly.text);
  } catch {
    parsed = undefined;
  }
  const whole = v.safeParse(InventoryFrame, { ...report, data: parsed });
  chunks.drop(frame.section);
  if (!whole.success) {
    const issue = whole.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".");
    refuse(
      conn,
      `reassembled ${frame.section} section is invalid${path ? ` at ${path}` : ""}: ${issue.message}`,
    );
    return;
  }
  await receiveInventory(db, store, nodeId, conn, whole.output);
}

function refuse(conn: Connection, message: string): void {
  conn.send(encodeServerFrame({ type: "error", code: "invalid_frame", message }));
}
