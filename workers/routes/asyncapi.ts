import { toJsonSchema } from "@valibot/to-json-schema";
import type { Hono } from "hono";
import type * as v from "valibot";
import { EVENT_TYPES } from "../../src/events/catalog";
import { EVENT_PAYLOADS, EVENT_SUMMARIES } from "../../src/events/payloads";
import { OUTPOST_VERSION } from "../../src/version";
import type { AppEnv } from "../middleware/request-context";

type JsonObject = Record<string, unknown>;

const DESCRIPTION = `Every event Outpost publishes reaches the webhooks subscribed to its type as an HTTP POST with a JSON body
\`{"id", "type", "occurred_at", "data"}\`. Headers: \`X-Edge-Event\` (the type), \`X-Edge-Delivery\` (delivery id, stable across
retries: use it to deduplicate) and \`X-Edge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>\`.
Verify the signature over the raw body before parsing it, and refuse timestamps far from now. Any 2xx answer acknowledges;
anything else (or no answer within 10 s) is retried with exponential backoff until WEBHOOK_MAX_ATTEMPTS attempts.
Delivery is at least once and not ordered. Fields are only ever added: ignore the ones you don't know.`;

function jsonSchema(schema: v.GenericSchema): JsonObject {
  const json = toJsonSchema(schema, { target: "draft-07", errorMode: "ignore" }) as JsonObject;
  delete json.$schema;
  return json;
}

const HEADERS = {
  type: "object",
  required: ["X-Edge-Event", "X-Edge-Delivery", "X-Edge-Signature"],
  properties: {
    "Content-Type": { type: "string", const: "application/json" },
    "X-Edge-Event": { type: "string", description: "The event type" },
    "X-Edge-Delivery": { type: "string", format: "uuid", description: "Delivery ID (same on every retry)" },
    "X-Edge-Signature": {
      type: "string",
      pattern: "^t=\\d+,v1=[0-9a-f]{64}$",
      description: 'HMAC-SHA256 of "<t>.<raw body>" under the webhook secret, hex',
    },
  },
};

function messageFor(type: (typeof EVENT_TYPES)[number]): JsonObject {
  return {
    name: type,
    title: type,
    summary: EVENT_SUMMARIES[type],
    contentType: "application/json",
    headers: HEADERS,
    payload: {
      type: "object",
      required: ["id", "type", "occurred_at", "data"],
      properties: {
        id: { type: "string", format: "uuid", description: "Event ID (same for every webhook it reaches)" },
        type: { type: "string", const: type },
        occurred_at: { type: "string", format: "date-time", description: "When it happened (UTC)" },
        data: jsonSchema(EVENT_PAYLOADS[type]),
      },
    },
  };
}

/** The AsyncAPI 3.0 document of webhook events, built from EVENT_TYPES and their payload schemas. */
export function buildAsyncApiDocument(): JsonObject {
  const messages = Object.fromEntries(EVENT_TYPES.map((t) => [t, messageFor(t)]));
  const refs = Object.fromEntries(EVENT_TYPES.map((t) => [t, { $ref: `#/components/messages/${t}` }]));
  return {
    asyncapi: "3.0.0",
    info: { title: "Outpost webhook events", version: OUTPOST_VERSION, description: DESCRIPTION },
    defaultContentType: "application/json",
    channels: {
      webhook: {
        address: null,
        title: "Webhook destination",
        description: "The `url` of each webhook subscribed to the event's type (POST).",
        messages: refs,
      },
    },
    operations: {
      deliverEvent: {
        action: "send",
        title: "Deliver an event to a webhook",
        channel: { $ref: "#/channels/webhook" },
        messages: EVENT_TYPES.map((t) => ({ $ref: `#/channels/webhook/messages/${t}` })),
      },
    },
    components: { messages },
  };
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
};

function escapeHtml(text: string): string {
  // The pattern matches only the entity table's keys; `?? ch` is for the type checker.
  return text.replace(/[&<>"]/g, (ch) => HTML_ENTITIES[ch] ?? ch);
}

function asyncDocHtml(doc: JsonObject): string {
  const messages = (doc.components as { messages: Record<string, JsonObject> }).messages;
  const sections = Object.entries(messages)
    .map(
      ([type, m]) =>
        `<section id="${type}"><h2><code>${type}</code></h2><p>${escapeHtml(String(m.summary))}</p>` +
        `<pre>${escapeHtml(JSON.stringify((m.payload as JsonObject).properties, null, 2))}</pre></section>`,
    )
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Outpost webhook events</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;overflow:auto}</style>
</head><body><h1>Outpost webhook events</h1>
<p>Machine-readable: <a href="/api/v1/asyncapi.json">AsyncAPI 3.0 document</a>.</p>
<p>${escapeHtml(String((doc.info as JsonObject).description))}</p>
<ul>${Object.keys(messages)
    .map((t) => `<li><a href="#${t}"><code>${t}</code></a></li>`)
    .join("")}</ul>
${sections}
</body></html>`;
}

/** Public event documentation: `/api/v1/asyncapi.json` and a readable page at `/asyncdoc`. */
export function registerAsyncApiRoutes(app: Hono<AppEnv>): void {
  // Built on first use, not at isolate start.
  let doc: JsonObject | undefined;
  const document = () => (doc ??= buildAsyncApiDocument());
  app.get("/api/v1/asyncapi.json", (c) => c.json(document()));
  app.get("/asyncdoc", (c) => c.html(asyncDocHtml(document())));
}
