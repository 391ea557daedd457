// `outpost-agent authorized-keys <user>` (sshd's AuthorizedKeysCommand) and
// `outpost-agent verify-password` (pam_exec expose_authtok). Both ask the server with the node's
// saved token, fall back to the outage cache (./ssh-cache.ts) only when the server cannot answer,
// and count one verification each (./ssh-verifications.ts). stdout carries keys only.
import { parseArgs } from "node:util";
import * as v from "valibot";
import { parsePublicKey } from "../src/ssh/public-key";
import { isSshUsername } from "../src/ssh/username";
import { serverBase } from "./enroll";
import { EXIT } from "./exit-codes";
import { openRequest, readText } from "./http-post";
import { type Identity, loadIdentity } from "./identity";
import { cachedKeys, forgetPassword, passwordCached, rememberPassword, replaceCachedKeys } from "./ssh-cache";
import type { SshCommand } from "./ssh-usage";
import { countSshVerification } from "./ssh-verifications";
import { ALLOW_INSECURE_HTTP_ENV, plainHttpProblem } from "./transport";
import { AGENT_VERSION } from "./version";

export { SSH_COMMANDS, SSH_USAGE, type SshCommand } from "./ssh-usage";

const DEFAULT_STATE_DIR = "/var/lib/outpost-agent";
const REQUEST_TIMEOUT_MS = 5000;
const MAX_PASSWORD_BYTES = 4096;

/** Where the command's output goes; separate so tests can capture it. */
export interface SshIo {
  out(text: string): void;
  err(text: string): void;
}

export interface SshCommandOptions {
  stateDir: string;
  io: SshIo;
  /** Per-request timeout before the cache is consulted. */
  timeoutMs?: number;
  now?: () => number;
  /** OUTPOST_ALLOW_INSECURE_HTTP=1: a plain http:// server that is not loopback is accepted. */
  allowInsecureHttp?: boolean;
}

/** The server answered (any status but 408/429/5xx), or could not be reached. */
type ServerReply = { answered: true; status: number; body: unknown } | { answered: false; problem: string };

async function askServer(
  identity: Identity,
  path: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<ServerReply> {
  let status: number;
  let text: string;
  try {
    const res = await openRequest(`${serverBase(identity.server)}${path}`, {
      ...init,
      headers: {
        ...init.headers,
        authorization: `Bearer ${identity.api_token}`,
        "user-agent": `outpost-agent/${AGENT_VERSION}`,
      },
      timeoutMs,
    });
    status = res.statusCode ?? 0;
    text = await readText(res).catch(() => "");
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { answered: false, problem: code ?? (error as Error).message };
  }
  const res = { status, ok: status >= 200 && status < 300 };
  if (res.status === 408 || res.status === 429 || res.status >= 500)
    return { answered: false, problem: `HTTP ${res.status}` };
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    if (res.ok) return { answered: false, problem: "unreadable answer" };
  }
  return { answered: true, status: res.status, body };
}

function errorMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === "string" ? message : "no message";
}

async function identityOrNull(options: SshCommandOptions): Promise<Identity | null> {
  const { stateDir, io } = options;
  try {
    const identity = await loadIdentity(stateDir);
    if (!identity) io.err(`outpost-agent: not enrolled (no identity in ${stateDir})\n`);
    const insecure = identity && plainHttpProblem(identity.server, options.allowInsecureHttp ?? false);
    if (insecure) {
      io.err(`outpost-agent: ${insecure}\n`);
      return null;
    }
    return identity;
  } catch (error) {
    io.err(`outpost-agent: ${(error as Error).message}\n`);
    return null;
  }
}

const KeysAnswer = v.object({
  data: v.object({
    public_keys: v.array(
      v.pipe(
        v.string(),
        v.check((k) => !/[\r\n]/.test(k)),
      ),
    ),
  }),
});

/**
 * The keys sshd may use, each re-parsed with the same parser the API uses and printed in its
 * normalized form: a broken or compromised server cannot slip in an options prefix
 * (`command=`, `environment=`, …) or a second line. Refused lines are named on stderr.
 */
function checkedKeys(keys: readonly string[], io: SshIo): string[] {
  const valid: string[] = [];
  for (const line of keys) {
    const parsed = parsePublicKey(line);
    if (parsed.ok) valid.push(parsed.key.normalized);
    else io.err(`outpost-agent: ignoring an invalid key from the server (${parsed.error})\n`);
  }
  return valid;
}

/**
 * Prints `username`'s keys for sshd. Exit 0 with no output for a name Outpost does not know;
 * 1 when the node's token is refused, or the server is down and nothing valid is cached.
 */
export async function authorizedKeys(username: string, options: SshCommandOptions): Promise<number> {
  const { stateDir, io } = options;
  const now = options.now ?? Date.now;
  // sshd passes whatever name the client sent; one Outpost can't hold needs no lookup.
  if (!isSshUsername(username)) return 0;
  await countSshVerification(stateDir);
  const identity = await identityOrNull(options);
  if (!identity) return 1;
  const reply = await askServer(
    identity,
    `/agent/v1/ssh/authorized_keys?username=${encodeURIComponent(username)}`,
    { method: "GET" },
    options.timeoutMs ?? REQUEST_TIMEOUT_MS,
  );
  if (!reply.answered) {
    const keys = await cachedKeys(stateDir, username, now());
    if (!keys) {
      io.err(`outpost-agent: server unreachable (${reply.problem}) and no cached keys for ${username}\n`);
      return 1;
    }
    io.err(`outpost-agent: server unreachable (${reply.problem}); using cached keys for ${username}\n`);
    for (const key of checkedKeys(keys, io)) io.out(`${key}\n`);
    return 0;
  }
  const parsed = reply.status === 200 ? v.safeParse(KeysAnswer, reply.body) : null;
  // Any real answer replaces the cache: what the server no longer lists must stop working.
  const keys = parsed?.success ? checkedKeys(parsed.output.data.public_keys, io) : [];
  await replaceCachedKeys(stateDir, username, keys, now());
  if (reply.status !== 200 || !parsed?.success) {
    io.err(
      `outpost-agent: server refused the key lookup (HTTP ${reply.status}: ${errorMessage(reply.body)})\n`,
    );
    return 1;
  }
  for (const key of keys) io.out(`${key}\n`);
  return 0;
}

/** pam_exec writes the token followed by a NUL; by hand it is usually a line. */
export function passwordFromStdin(raw: Buffer): string {
  const nul = raw.indexOf(0);
  if (nul >= 0) return raw.subarray(0, nul).toString("utf8");
  const text = raw.toString("utf8");
  return text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text;
}

/**
 * Checks `password` for `username` (pam_exec: `PAM_USER`, stdin). Exit 0 when the server accepts
 * it, or (server unreachable) when it is the password last accepted within the TTL; else 1.
 */
export async function verifyPassword(
  username: string,
  password: string,
  options: SshCommandOptions,
): Promise<number> {
  const { stateDir, io } = options;
  const now = options.now ?? Date.now;
  if (!isSshUsername(username) || password === "") return 1;
  await countSshVerification(stateDir);
  const identity = await identityOrNull(options);
  if (!identity) return 1;
  const reply = await askServer(
    identity,
    "/agent/v1/ssh/verify_password",
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    },
    options.timeoutMs ?? REQUEST_TIMEOUT_MS,
  );
  if (!reply.answered) {
    const ok = await passwordCached(stateDir, username, password, now());
    io.err(
      `outpost-agent: server unreachable (${reply.problem}); ${ok ? "accepted by" : "not in"} the password cache for ${username}\n`,
    );
    return ok ? 0 : 1;
  }
  if (reply.status === 200) {
    await rememberPassword(stateDir, username, password, now());
    return 0;
  }
  await forgetPassword(stateDir, username);
  if (reply.status !== 401)
    io.err(
      `outpost-agent: server refused the password check (HTTP ${reply.status}: ${errorMessage(reply.body)})\n`,
    );
  return 1;
}

async function readStdin(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/**
 * Runs `authorized-keys USER` or `verify-password` from argv (after the command name) and the
 * environment; returns the exit code.
 */
export async function runSshCommand(
  command: SshCommand,
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: SshIo,
): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { "state-dir": { type: "string" } },
    });
  } catch (error) {
    io.err(`outpost-agent: ${(error as Error).message.split("\n")[0]}\n`);
    return EXIT.config;
  }
  const stateDir =
    (parsed.values["state-dir"] as string | undefined) || env.OUTPOST_STATE_DIR || DEFAULT_STATE_DIR;
  const options = { stateDir, io, allowInsecureHttp: env[ALLOW_INSECURE_HTTP_ENV] === "1" };
  if (command === "authorized-keys") {
    if (parsed.positionals.length !== 1) {
      io.err("outpost-agent: usage: outpost-agent authorized-keys USER\n");
      return EXIT.config;
    }
    return authorizedKeys(parsed.positionals[0], options);
  }
  if (parsed.positionals.length !== 0) {
    io.err("outpost-agent: usage: outpost-agent verify-password (user in PAM_USER, password on stdin)\n");
    return EXIT.config;
  }
  // Only an `auth` stack hands over a password; in any other stack this must not say yes.
  if (env.PAM_TYPE && env.PAM_TYPE !== "auth") {
    io.err(`outpost-agent: verify-password only works in a PAM auth stack (PAM_TYPE=${env.PAM_TYPE})\n`);
    return 1;
  }
  const username = env.PAM_USER ?? "";
  if (!username) {
    io.err("outpost-agent: PAM_USER is not set\n");
    return EXIT.config;
  }
  return verifyPassword(username, passwordFromStdin(await readStdin(MAX_PASSWORD_BYTES)), options);
}
