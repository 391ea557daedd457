import type { AuditActor } from "../../src/audit/record";
import { sealAuditEvents } from "../../src/audit/seal";
import { clientIp } from "../middleware/authenticate";
import type { AppContext } from "../middleware/request-context";

/** The actor and request columns of this request's audit events (anonymous before authentication). */
export function auditActor(c: AppContext): AuditActor {
  const principal = c.get("principal");
  return {
    actorType: principal?.type ?? "anonymous",
    actorId: principal?.id ?? null,
    actorName: principal?.name ?? null,
    ip: clientIp(c),
    userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null,
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    requestId: c.get("requestId"),
  };
}

/**
 * Seals the events this request wrote (and any others waiting), after the answer: the chain needs
 * them in `seq` order, which only a read of the committed rows gives. The cron seals what is missed.
 */
export function sealAfterResponse(c: AppContext): void {
  const work = sealAuditEvents(c.get("db"), c.get("config").auditSigningKey).catch((err: unknown) => {
    console.error(
      JSON.stringify({ level: "warn", msg: "audit sealing deferred to cron", error: String(err) }),
    );
  });
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (app.request in a unit test): the promise runs on its own.
  }
}
