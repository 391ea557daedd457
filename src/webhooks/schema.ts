import * as v from "valibot";
import { EVENT_TYPES, type EventType } from "../events/catalog";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** Where the event catalog is documented, for descriptions. */
export const ASYNCAPI = "[AsyncAPI spec](/asyncdoc)";

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
/** The catalog as a set, for membership checks on client strings. */
/**
 * Entries of `subscribed_events`: the contract's 20, raised to the catalog's size once the catalog
 * outgrew it, so one webhook can still subscribe to every event type.
 */
export const SUBSCRIBED_EVENTS_MAX = Math.max(20, EVENT_TYPES.length);

export const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_TYPES);

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

/** The contract's `WebhookCreateRequest`. */
export const WebhookCreateRequest = v.pipe(
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
      v.maxLength(SUBSCRIBED_EVENTS_MAX, `must contain at most ${SUBSCRIBED_EVENTS_MAX} event types`),
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

/** The contract's `Webhook`: secret and headers are write-only, so they are not here. */
export const WebhookSchema = v.pipe(
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
export type WebhookCreateInput = v.InferOutput<typeof WebhookCreateRequest>;
export type WebhookResponse = v.InferOutput<typeof WebhookSchema>;
