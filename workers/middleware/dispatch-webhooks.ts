import type { MiddlewareHandler } from "hono";
import { runNotificationsSoon } from "../services/notification-dispatch";
import { processOutboxSoon } from "../services/webhook-dispatch";
import type { AppEnv } from "./request-context";

/**
 * After a successful write (non-GET, status < 400), delivers the events it recorded to webhooks
 * and notification channels without waiting for the cron.
 */
export function dispatchWebhooksAfterWrites(): MiddlewareHandler<AppEnv> {
  return async function dispatchWebhooksAfterWritesMiddleware(c, next) {
    await next();
    if (["GET", "HEAD", "OPTIONS"].includes(c.req.method) || c.res.status >= 400) return;
    let ctx: { waitUntil(promise: Promise<unknown>): void };
    try {
      ctx = c.executionCtx;
    } catch {
      return; // no execution context (e.g. app.request in a unit test)
    }
    processOutboxSoon(c.env, ctx);
    runNotificationsSoon(c.env, (promise) => ctx.waitUntil(promise), true);
  };
}
