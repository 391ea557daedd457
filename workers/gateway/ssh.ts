import { and, asc, eq, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import type { Database } from "../../src/db/client";
import { events, sshPublicKeys, sshUsernames } from "../../src/db/schema";
import { recordEvent, recordEventWhere } from "../../src/events/outbox";
import { checkLoginPassword } from "../../src/ssh/password-check";
import { isSshUsername } from "../../src/ssh/username";
import { ApiError, issuesToDetails } from "../errors";
import { authenticatedNode, nodeAuth } from "../middleware/node-auth";
import { enforceRateLimit } from "../middleware/rate-limit";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { readBodyText } from "../openapi/read-body";
import { respond } from "../respond";

const MAX_BODY_BYTES = 16 * 1024;

const Username = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.maxLength(64, "must be at most 64 characters"),
);

const VerifyPasswordRequest = v.strictObject({
  username: Username,
  // Bounded so one request cannot make Argon2 hash megabytes.
  password: v.pipe(v.string("must be a string"), v.maxLength(1024, "must be at most 1024 characters")),
});

/** One of this node's usernames (usernames of other nodes are invisible), with its password hash. */
async function findUsername(db: Database, nodeId: string, username: string) {
  if (!isSshUsername(username)) return null;
  const [row] = await db
    .select({ id: sshUsernames.id, passwordHash: sshUsernames.passwordHash })
    .from(sshUsernames)
    .where(and(eq(sshUsernames.nodeId, nodeId), eq(sshUsernames.username, username)))
    .limit(1);
  return row ?? null;
}

/** A key lookup is recorded at most once per node and username in this window (M6). */
const KEY_LOOKUP_EVENT_WINDOW_MS = 60_000;

function verified(db: Database, nodeId: string, sshUsernameId: string, username: string, method: string) {
  const data = { node_id: nodeId, ssh_username_id: sshUsernameId, username, method };
  if (method !== "public_key") return recordEvent(db, "edge.ssh_username.verified", data);
  // sshd asks for keys on every connection attempt, including scans that then fail: without the
  // window an internet scan writes an event (and webhooks) per attempt.
  const now = Date.now();
  return recordEventWhere(
    db,
    "edge.ssh_username.verified",
    sql`${JSON.stringify(data)}`,
    sql`WHERE NOT EXISTS (SELECT 1 FROM ${events} WHERE type = 'edge.ssh_username.verified'
      AND occurred_at > ${now - KEY_LOOKUP_EVENT_WINDOW_MS} AND json_extract(data, '$.node_id') = ${nodeId}
      AND json_extract(data, '$.username') = ${username} AND json_extract(data, '$.method') = 'public_key')`,
    now,
  );
}

async function readJson(c: AppContext): Promise<unknown> {
  if (!/^application\/json\b/i.test(c.req.header("content-type") ?? ""))
    throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
  const text = await readBodyText(c.req.raw, MAX_BODY_BYTES);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError("bad_request", "Malformed JSON body", { body: [(err as Error).message] });
  }
}

/**
 * The agent's SSH lookups, guarded by the node token: `GET /agent/v1/ssh/authorized_keys?username=U`
 * (sshd's AuthorizedKeysCommand) and `POST /agent/v1/ssh/verify_password` (pam_exec). Both record
 * `edge.ssh_username.verified` when the username has a key to offer / the password matches.
 */
export function registerSshGatewayRoutes(app: Hono<AppEnv>): void {
  app.get("/agent/v1/ssh/authorized_keys", nodeAuth(), async (c) => {
    const nodeId = authenticatedNode(c);
    const search = new URL(c.req.url).searchParams;
    const unknown = [...search.keys()].filter((k) => k !== "username");
    if (unknown.length > 0) {
      throw new ApiError(
        "bad_request",
        "Invalid request parameters",
        Object.fromEntries(unknown.map((k) => [k, ["unknown parameter; allowed: username"]])),
      );
    }
    const parsed = v.safeParse(Username, search.get("username") ?? undefined);
    if (!parsed.success) {
      throw new ApiError("bad_request", "Invalid request parameters", {
        username: parsed.issues.map((i) => i.message),
      });
    }
    const db = c.get("db");
    const found = await findUsername(db, nodeId, parsed.output);
    const keys = found
      ? await db
          .select({ publicKey: sshPublicKeys.publicKey })
          .from(sshPublicKeys)
          .where(eq(sshPublicKeys.sshUsernameId, found.id))
          .orderBy(asc(sshPublicKeys.insertedAt), sql`rowid`)
      : [];
    // A username without keys cannot log in by key, so only a lookup that offers keys counts as one.
    if (found && keys.length > 0) await verified(db, nodeId, found.id, parsed.output, "public_key");
    return respond(c, {
      ssh_username_id: found?.id ?? null,
      username: parsed.output,
      public_keys: keys.map((k) => k.publicKey),
    });
  });

  app.post("/agent/v1/ssh/verify_password", nodeAuth(), async (c) => {
    const nodeId = authenticatedNode(c);
    const parsed = v.safeParse(VerifyPasswordRequest, await readJson(c));
    if (!parsed.success)
      throw new ApiError("validation_failed", "Validation failed", issuesToDetails(parsed.issues));
    const { username, password } = parsed.output;
    const db = c.get("db");
    // Counted before the Argon2 work, per node and username: guessing costs the guesser the wait.
    await enforceRateLimit(
      c.env.SSH_PASSWORD_RATE_LIMITER,
      `ssh-password:${nodeId}:${username}`,
      c.get("config").rateLimits.sshPassword,
    );
    const found = await findUsername(db, nodeId, username);
    // A missing user or password costs the same Argon2 work (no timing oracle).
    const ok = checkLoginPassword(found?.passwordHash ?? null, password);
    if (!found || !ok) throw new ApiError("unauthorized", "Invalid username or password");
    await verified(db, nodeId, found.id, username, "password");
    return respond(c, { ssh_username_id: found.id, username });
  });
}
