import type { Logger } from "../../src/log";
import { type DriveHost, driveOrchestration } from "../../src/reboot-orchestrations/drive";
import type { SessionStore } from "./store";

// The parent's side of its orchestrated reboots (C10): the ids it drives and when it looks next,
// in the object's storage, so an eviction or a Worker restart resumes them from the next alarm.
// The alarm is shared with the staleness check (next = the earlier of the two).

const KEY = "orchestrations";
/** How often an orchestration in flight is looked at (each look is one or two libSQL reads). */
export const ORCHESTRATION_TICK_MS = 1_000;

interface Driven {
  ids: string[];
  due: number;
}

/** When the next orchestration step is due; null when none is driven. */
export function orchestrationDue(store: SessionStore): number | null {
  const driven = store.get<Driven | null>(KEY);
  return driven && driven.ids.length > 0 ? driven.due : null;
}

/** Starts (or resumes) driving an orchestration, due at once. */
export function driveFromNow(store: SessionStore, id: string, now = Date.now()): void {
  const ids = store.get<Driven | null>(KEY)?.ids ?? [];
  store.set(KEY, { ids: ids.includes(id) ? ids : [...ids, id], due: now });
}

/**
 * When due, moves each driven orchestration on by a step; one that is over is dropped. A step that
 * throws (libSQL unreachable) is tried again at the next tick.
 */
export async function tickOrchestrations(
  store: SessionStore,
  host: DriveHost,
  log: Logger,
  now = Date.now(),
): Promise<void> {
  const driven = store.get<Driven | null>(KEY);
  if (!driven || driven.ids.length === 0 || driven.due > now) return;
  const keep: string[] = [];
  for (const id of driven.ids) {
    try {
      if (await driveOrchestration(host, id, now)) keep.push(id);
    } catch (error) {
      log.warn("reboot orchestration step failed; retrying", { orchestration_id: id, error });
      keep.push(id);
    }
  }
  store.set(KEY, keep.length > 0 ? { ids: keep, due: Date.now() + ORCHESTRATION_TICK_MS } : null);
}
