import { count, eq, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { webhooks as w } from "../../src/db/schema";
import { EVENT_TYPES, type EventType } from "../../src/events/catalog";
import type { ListSpec } from "../../src/list-query/engine";
import { rangeFilters, textFilter } from "../../src/list-query/filters";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import { checkApiKey } from "../middleware/auth";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { listPage } from "../services/list-page";
import {
  deliveryListSpec,
  listDeliveries,
  redeliver,
  WebhookDeliverySchema,
} from "../services/webhook-deliveries";
import { createWebhook, getWebhook, presentWebhook } from "../services/webhooks";

const TAG = "Events.Webhook";
const ASYNCAPI = "[AsyncAPI spec](/asyncdoc)";

// Header names are RFC 9110 tokens. Hop-by-hop headers, the ones fetch or the body decide,
// and the ones Outpost sets itself (X-Edge-*) or Cloudflare owns (CF-*) can't be overridden.
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
  "expect",
]);
const isReservedHeader = (name: string) => {
  const lower = name.toLowerCase();
  return RESERVED_HEADERS.has(lower) || lower.startsWith("x-edge-") || lower.startsWith("cf-");
};
const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_TYPES);

const HeaderName = v.pipe(
  v.string(),
  v.regex(HEADER_TOKEN, "must be a valid HTTP header name"),
  v.check((name) => !isReservedHeader(name), "is reserved (hop-by-hop, set by Outpost, or X-Edge-*/CF-*)"),
);
const HeaderValue = v.pipe(
  v.string("must be a string"),
  v.maxLength(4096, "must be at most 4096 characters"),
  v.regex(/^[\t\x20-\x7e\x80-\xff]*$/, "must not contain control characters or characters beyond U+00FF"),
);

const HEADERS_MESSAGE = "must be an object of header names to string values";
const headerRecord = v.record(HeaderName, HeaderValue, HEADERS_MESSAGE);
const notAnObject = v.never(HEADERS_MESSAGE);
// valibot's record() takes arrays as objects with keys "0", "1", …; a JSON array of headers is refused instead.
const HeaderRecord: typeof headerRecord = {
  ...headerRecord,
  "~run": (dataset, config) =>
    Array.isArray(dataset.value)
      ? (notAnObject["~run"](dataset, config) as ReturnType<(typeof headerRecord)["~run"]>)
      : headerRecord["~run"](dataset, config),
};

const WebhookCreateRequest = v.pipe(
  v.strictObject({
    url: v.pipe(
      v.string("must be a string"),
      v.minLength(1, "can't be blank"),
      v.maxLength(2048, "must be at most 2048 characters"),
      v.regex(/^https?:\/\/.+/, "must be an absolute http(s) URL"),
      v.check((url) => !/\s/.test(url), "must not contain whitespace"),
      v.check((url) => URL.canParse(url) && new URL(url).hostname !== "", "must be an absolute http(s) URL"),
      v.check(
        (url) => !URL.canParse(url) || (new URL(url).username === "" && new URL(url).password === ""),
        "must not contain credentials; send them in headers",
      ),
      v.description("Absolute http(s) URL. SSRF-checked downstream."),
    ),
    secret: v.pipe(
      v.string("must be a string"),
      v.minBytes(32, "must be at least 32 bytes"),
      v.maxBytes(256, "must be at most 256 bytes"),
      v.description("HMAC-SHA256 signing key (32–256 bytes, UTF-8). Never returned in responses."),
      v.metadata({ minLength: 32, maxLength: 256 }),
    ),
    headers: v.optional(
      v.pipe(
        HeaderRecord,
        v.maxEntries(20, "must have at most 20 entries"),
        v.check(
          (h) => new Set(Object.keys(h).map((k) => k.toLowerCase())).size === Object.keys(h).length,
          "must not repeat a header name (names are case-insensitive)",
        ),
        v.description(
          "Extra HTTP headers. Up to 20 entries; each value up to 4096 characters. Write-only: encrypted at rest, never returned.",
        ),
      ),
    ),
    subscribed_events: v.pipe(
      v.array(
        v.pipe(v.string("must be a string"), v.maxLength(256, "must be at most 256 characters")),
        "must be an array of event types",
      ),
      v.minLength(1, "must contain at least 1 event type"),
      v.maxLength(20, "must contain at most 20 event types"),
      v.check(
        (list) => list.every((t) => typeof t !== "string" || KNOWN_EVENTS.has(t)),
        (issue) =>
          `contains unknown event types: ${[
            ...new Set(
              (issue.input as unknown[]).filter((t) => typeof t === "string" && !KNOWN_EVENTS.has(t)),
            ),
          ].join(", ")} (see GET /api/v1/event_types)`,
      ),
      v.transform((list) => [...new Set(list)] as EventType[]),
      v.description(
        `Explicit list of event types this webhook subscribes to (duplicates are removed). Each entry must be a known event type from the catalog. See ${ASYNCAPI}.`,
      ),
    ),
  }),
  v.title("WebhookCreateRequest"),
  v.description(
    "Create a new webhook subscription. Webhooks are immutable after create — to change any field, delete and recreate. " +
      "`url` is SSRF-checked: loopback, RFC 1918, link-local, CGNAT, unique-local and cloud-metadata IPs/hostnames are denied unless " +
      "`WEBHOOK_ALLOW_PRIVATE_IPS=true`. `secret` is the HMAC-SHA256 signing key; receivers verify `X-Edge-Signature`. " +
      "Delivery retry budget is `WEBHOOK_MAX_ATTEMPTS` (default 3).",
  ),
);

const WebhookSchema = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    subscribed_events: v.pipe(
      v.array(v.picklist(EVENT_TYPES)),
      v.description(`Explicit list of event types this webhook fires on. See ${ASYNCAPI}.`),
    ),
    updated_at: DateTimeOutput,
    url: v.pipe(v.string(), v.description("Destination URL — receives a POST per matching event")),
  }),
  v.title("Webhook"),
);

const listSpec: ListSpec = {
  filters: {
    event_type: {
      description: `Returns webhooks whose subscribed_events list contains this event type. See ${ASYNCAPI} for the catalog.`,
      type: "string",
      enum: EVENT_TYPES,
      parse: (raw) =>
        KNOWN_EVENTS.has(raw)
          ? { value: raw }
          : { error: "must be a known event type (GET /api/v1/event_types)" },
      toSql: (type: string) =>
        sql`EXISTS (SELECT 1 FROM json_each(${w.subscribedEvents}) WHERE value = ${type})`,
    },
    url: textFilter(sql`${w.url}`, "Filter by URL (exact match or wildcard: prefix, suffix, substring)"),
    ...rangeFilters("inserted_at", sql`${w.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${w.updatedAt}`, "datetime"),
  },
  sortable: { url: sql`${w.url}`, inserted_at: sql`${w.insertedAt}`, updated_at: sql`${w.updatedAt}` },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${w.id}`,
};

const idParam = { id: { schema: UuidParam, description: "Webhook ID" } };

/** Registers webhook subscriptions and their delivery log (seed: Events.Webhook). */
export function registerWebhookRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/webhooks",
      tag: TAG,
      summary: "Create webhook",
      description:
        "Create a webhook subscription. The destination URL is validated against the SSRF deny list at create time. secret (HMAC signing key, >= 32 bytes) and headers are write-only — encrypted at rest and never returned in any GET response. subscribed_events is an explicit list of event types this webhook fires on; the full catalog is documented in the AsyncAPI spec.",
      body: WebhookCreateRequest,
      success: { status: 201, description: "Webhook created", data: WebhookSchema },
      errors: [422, 503],
    },
    async (c, { body }) =>
      respond(c, presentWebhook(await createWebhook(c.get("db"), c.get("config"), body)), 201),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/webhooks",
      tag: TAG,
      summary: "List webhooks",
      description:
        "Returns a paginated list of webhook subscriptions. The full catalog of event types you can subscribe to is documented in the AsyncAPI spec.",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of webhooks",
        data: WebhookSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        db.select().from(w),
        db.select({ total: count() }).from(w),
      );
      return respondList(c, rows.map(presentWebhook), pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/webhooks/{id}",
      tag: TAG,
      summary: "Get webhook",
      description: "Get a single webhook by ID.",
      params: idParam,
      success: { status: 200, description: "The webhook", data: WebhookSchema },
      errors: [404],
    },
    async (c, { params }) => respond(c, presentWebhook(await getWebhook(c.get("db"), params.id))),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/webhooks/{id}",
      tag: TAG,
      summary: "Delete webhook",
      description:
        "Permanently delete a webhook (and its delivery log). Webhooks are immutable after create — to change any field (URL, secret, headers, subscribed_events) delete and recreate. The retry budget is process-wide (WEBHOOK_MAX_ATTEMPTS), not per-webhook.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const deleted = await c.get("db").delete(w).where(eq(w.id, params.id)).returning({ id: w.id });
      if (deleted.length === 0) throw new ApiError("not_found", "Webhook not found");
      return respondNoContent(c);
    },
  );

  // Immutable: a clear 405 in the envelope instead of a bare "no route".
  app.on(["PATCH", "PUT"], "/api/v1/webhooks/:id", async (c) => {
    await checkApiKey(c);
    c.header("allow", "GET, DELETE");
    throw new ApiError("method_not_allowed", "Webhooks are immutable; delete and recreate to change one");
  });

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/webhooks/{id}/deliveries",
      tag: TAG,
      summary: "List a webhook's deliveries",
      description:
        "One entry per event sent (or to be sent) to this webhook, newest first by default, each with its status and every HTTP attempt (status code, duration, error) oldest first.",
      params: idParam,
      list: deliveryListSpec,
      success: {
        status: 200,
        description: "Paginated deliveries",
        data: WebhookDeliverySchema,
        paginated: true,
      },
      errors: [404],
    },
    async (c, { params, list }) => {
      const db = c.get("db");
      await getWebhook(db, params.id);
      const page = await listDeliveries(db, params.id, list!);
      return respondList(c, page.data, page.pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
      tag: TAG,
      summary: "Redeliver",
      description:
        "Puts a delivery back to `pending`, due now, with a fresh WEBHOOK_MAX_ATTEMPTS budget; earlier attempts stay in its history. It is sent right after this answer.",
      params: { ...idParam, delivery_id: { schema: UuidParam, description: "Delivery ID" } },
      success: { status: 202, description: "Delivery scheduled", data: WebhookDeliverySchema },
      errors: [404, 503],
    },
    async (c, { params }) => respond(c, await redeliver(c.get("db"), params.id, params.delivery_id), 202),
  );
}
