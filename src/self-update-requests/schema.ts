import * as v from "valibot";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { TargetingSchema } from "../targeting/schema";

/** Where a request stands. */
export const SELF_UPDATE_STATUSES = ["pending", "processing", "completed"] as const;

const Sha256 = v.pipe(
  v.string("must be a string"),
  v.regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 digest (64 hex characters)"),
  v.toLowerCase(),
);

/** Outpost extension: the release a request pins (the server's latest when omitted). */
export const ReleaseInput = v.pipe(
  v.strictObject(
    {
      version: v.pipe(
        v.string("must be a string"),
        v.regex(
          /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/,
          "must be a version such as 1.2.3 (at most 64 characters)",
        ),
        v.description("Version the bundle reports (the agent ignores the request when it already runs it)"),
      ),
      url: v.pipe(
        v.string("must be a string"),
        v.maxLength(2048, "must be at most 2048 characters"),
        v.check((raw) => {
          try {
            const url = new URL(raw);
            return (url.protocol === "https:" || url.protocol === "http:") && !url.username && !url.password;
          } catch {
            return false;
          }
        }, "must be an http(s) URL without credentials"),
        v.description("Where agents download the bundle; fetched by the agents, not by the server"),
      ),
      sha256: v.pipe(Sha256, v.description("SHA-256 of the bundle; agents refuse a download that differs")),
    },
    objectMessage,
  ),
  v.description(
    "Outpost extension: the agent release to roll out. Omitted: this server's own latest release (`GET /agent/v1/releases/latest`).",
  ),
);

// A targeting filter's value as stored: the JSON type of its query parameter.
const FilterValue = v.union([v.string(), v.number(), v.boolean()]);

const TargetingOutput = v.object({
  type: v.picklist(["all", "nodes", "clusters"]),
  node_ids: v.optional(v.array(UuidOutput)),
  cluster_names: v.optional(v.array(v.string())),
  node_filters: v.optional(v.record(v.string(), FilterValue)),
  cluster_filters: v.optional(v.record(v.string(), FilterValue)),
});

/** The contract's `SelfUpdateRequestResponse`, plus the pinned `release`. */
export const SelfUpdateRequestResponse = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    release: v.pipe(
      v.nullable(v.object({ version: v.string(), url: v.string(), sha256: v.string() })),
      v.description("Outpost extension: the release this request rolls out, pinned at creation"),
    ),
    status: v.pipe(v.picklist(SELF_UPDATE_STATUSES), v.description("Request processing status")),
    summary: v.pipe(
      v.nullable(v.object({ total: v.number(), triggered: v.number(), failed: v.number() })),
      v.description(
        "Available after completion: eligible nodes (`total`), nodes sent the update (`triggered`), and nodes not connected or not reachable (`failed`)",
      ),
    ),
    targeting: v.pipe(
      TargetingOutput,
      v.description(
        "Targeting as given, with `node_filters.status = healthy` and `node_filters.self_update_enabled = true` applied",
      ),
    ),
    updated_at: DateTimeOutput,
  }),
  v.title("SelfUpdateRequestResponse"),
);
export type SelfUpdateRequestResponseData = v.InferOutput<typeof SelfUpdateRequestResponse>;
export type ReleaseData = v.InferOutput<typeof ReleaseInput>;

/** The contract's `SelfUpdateRequestCreateRequest`: the commands' targeting plus an optional pinned release. */
export const SelfUpdateRequestCreateRequest = v.pipe(
  v.strictObject({ targeting: TargetingSchema, release: v.optional(ReleaseInput) }, objectMessage),
  v.title("SelfUpdateRequestCreateRequest"),
);
