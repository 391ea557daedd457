import type { Env } from "../config";

/** Keeps a task running after the caller returns (`ctx.waitUntil`). */
export type WaitUntil = (task: Promise<unknown>) => void;
type Dispatcher = (env: Env, waitUntil: WaitUntil) => void;

// The sending machinery lives in the Worker (workers/services/notification-dispatch.ts), which the
// Durable Objects may not import. The Worker's entry registers it here at load; both run from the
// same script, so a session that records an alert finds it in its own isolate.
let dispatcher: Dispatcher | null = null;

/** Registers how notifications are sent right away (called once by the Worker's entry). */
export function registerPromptNotifications(fn: Dispatcher): void {
  dispatcher = fn;
}

/**
 * Asks for the outbox's new events to reach their notification channels now instead of at the
 * next cron tick. False when nothing is registered (the cron still sends them). Safe beside the
 * cron: fan-out is unique per (channel, event) and deliveries are claimed under a lease.
 */
export function notifySoon(env: Env, waitUntil: WaitUntil): boolean {
  if (!dispatcher) return false;
  dispatcher(env, waitUntil);
  return true;
}
