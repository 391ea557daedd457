import { hostname } from "node:os";
import * as v from "valibot";
import type { EnrollmentKeyBlob } from "../src/enrollment/key-blob";
import {
  ENROLL_PATH,
  type EnrollRequest,
  enrollAcceptedResponseSchema,
  enrollResponseSchema,
} from "../src/protocol/enroll";
import type { IdType } from "./config";
import { type PostAnswer, postJson } from "./http-post";
import type { Identity } from "./identity";
import type { Logger } from "./log";
import { clearRegistration, loadRegistration, RegistrationRejected, saveRegistration } from "./registration";
import { AGENT_VERSION } from "./version";

/** The server refused the enrolment (bad, spent or expired key, …). Retrying won't help. Exit 3. */
export class EnrollmentRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The server could not be reached (or kept failing) within the retry budget. Exit 1, systemd retries. */
export class EnrollmentUnavailable extends Error {}

// The REST error envelope, reduced to what a refusal message needs.
const errorEnvelope = () =>
  v.object({
    error: v.object({ code: v.optional(v.string()), message: v.string() }),
  });

export interface EnrollOptions {
  blob: EnrollmentKeyBlob;
  nodeId: string;
  idType: IdType;
  /** The node's current token, when this machine has one: the proof that lets an enrolled id enrol again (review H1). */
  currentToken?: string;
  /** Where a registration waiting for approval is kept, so a restart resumes it (none: not kept). */
  stateDir?: string;
  log: Logger;
  /** Attempts in all, counting the first; only network errors, 408, 429 and 5xx are retried. */
  maxAttempts?: number;
  retryBaseMs?: number;
  requestTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Retry-After in seconds as ms, within sane bounds whatever it says (0: none or a date). */
function retryAfterMs(header: string | undefined): number {
  const seconds = Number(header);
  return header && Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 300) * 1000 : 0;
}

function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Strips trailing slashes so `${origin}/agent/v1/...` never doubles them. */
export function serverBase(server: string): string {
  return server.replace(/\/+$/, "");
}

/** One answer of the enrolment endpoint that is not a refusal: its status and parsed body. */
interface Answer {
  status: number;
  json: unknown;
}

/**
 * Enrols this machine: one POST of the key and node id; 201 returns the node's API token. A key
 * that requires approval answers 202 with a registration: the agent keeps it in the state dir and
 * repeats the POST with it every `retry_after_seconds` until the answer is its node (201), or a 403
 * (rejected or expired: RegistrationRejected, exit 6).
 * Refusals (4xx) end at once — each attempt may spend a key use; network errors and
 * 5xx are retried with jittered exponential backoff, a bounded number of times.
 * @throws EnrollmentRefused | EnrollmentUnavailable | RegistrationRejected
 * @example const identity = await enroll({ blob, nodeId, idType: "persistent", log })
 */
export async function enroll(options: EnrollOptions): Promise<Identity> {
  const { blob, nodeId, idType, log, stateDir } = options;
  const server = serverBase(blob.server);
  const body: EnrollRequest = {
    key: blob.key,
    node_id: nodeId,
    id_type: idType,
    hostname: hostname(),
    platform: process.platform,
    arch: process.arch,
    version: AGENT_VERSION,
    ...(options.currentToken ? { api_token: options.currentToken } : {}),
  };
  let pending = stateDir ? await loadRegistration(stateDir, nodeId, server) : null;
  let delaySeconds = 0;
  if (pending) log.info("resuming the wait for approval", { registration_id: pending.registration_id });
  for (;;) {
    if (pending) await sleep(delaySeconds * 1000);
    let answer: Answer;
    try {
      answer = await send(
        options,
        pending
          ? {
              ...body,
              registration_id: pending.registration_id,
              registration_secret: pending.registration_secret,
            }
          : body,
      );
    } catch (error) {
      if (pending && error instanceof EnrollmentRefused) {
        if (stateDir) await clearRegistration(stateDir);
        if (error.status === 403)
          throw new RegistrationRejected(`registration ${pending.registration_id}: ${error.message}`);
        throw new EnrollmentRefused(
          `registration ${pending.registration_id}: ${error.message}; enrol again with a new key`,
          error.status,
          error.code,
        );
      }
      throw error;
    }
    if (answer.status === 202) {
      const accepted = v.safeParse(enrollAcceptedResponseSchema(), answer.json);
      if (!accepted.success)
        throw new EnrollmentRefused("server answered 202 without a usable registration", 202);
      const data = accepted.output.data;
      if (!pending) {
        if (!data.registration_secret)
          throw new EnrollmentRefused("server answered 202 without a registration secret", 202);
        pending = {
          registration_id: data.registration_id,
          registration_secret: data.registration_secret,
          node_id: nodeId,
          server,
        };
        if (stateDir) await saveRegistration(stateDir, pending);
        log.info("registration pending approval: an administrator approves or rejects it in Outpost", {
          registration_id: data.registration_id,
          node_id: nodeId,
        });
      } else log.debug("registration still pending", { registration_id: data.registration_id });
      // The server's pace, within sane bounds whatever it says.
      delaySeconds = Math.min(Math.max(data.retry_after_seconds, 1), 300);
      continue;
    }
    const identity = identityFrom(answer, options, server);
    if (pending && stateDir) await clearRegistration(stateDir);
    return identity;
  }
}

/** The identity from a 201 answer. */
function identityFrom(answer: Answer, options: EnrollOptions, server: string): Identity {
  const { nodeId, idType, log } = options;
  const parsed = v.safeParse(enrollResponseSchema(), answer.json);
  // The key use is probably spent already, so a malformed success is not retried.
  if (!parsed.success) {
    throw new EnrollmentRefused(
      `server answered ${answer.status} without a usable node record`,
      answer.status,
    );
  }
  const data = parsed.output.data;
  if (data.id !== nodeId)
    log.warn("server assigned a different node id", { sent: nodeId, assigned: data.id });
  log.info("enrolled", {
    node_id: data.id,
    cluster: data.cluster_name,
    node_name: data.node_name ?? undefined,
  });
  return {
    node_id: data.id,
    id_type: idType,
    server,
    api_token: data.api_token,
    cluster_name: data.cluster_name,
    enrolled_at: new Date().toISOString(),
  };
}

/**
 * One enrolment request, retried on network errors, 408, 429 and 5xx; resolves with a 2xx answer.
 * @throws EnrollmentRefused (any other status) | EnrollmentUnavailable (retries used up)
 */
async function send(options: EnrollOptions, body: EnrollRequest): Promise<Answer> {
  const { blob, log, maxAttempts = 5, retryBaseMs = 1000, requestTimeoutMs = 15_000 } = options;
  const url = `${serverBase(blob.server)}${ENROLL_PATH}`;
  let lastProblem = "";
  // The server's Retry-After of the last answer (a 429), in ms: the next attempt waits at least that.
  let serverDelayMs = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) {
      const ceiling = Math.min(retryBaseMs * 2 ** (attempt - 2), 30_000);
      const backoff = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      // A rate-limited agent retrying on its own short backoff spent its attempts inside the
      // limit's window and gave up (issue 23); the jitter spreads a refused burst over the window.
      const delay = serverDelayMs > 0 ? serverDelayMs + Math.round(Math.random() * backoff) : backoff;
      serverDelayMs = 0;
      log.warn("enrolment attempt failed; retrying", { problem: lastProblem, attempt, delay_ms: delay });
      await sleep(delay);
    }
    let response: PostAnswer;
    try {
      response = await postJson(url, body, {
        timeoutMs: requestTimeoutMs,
        headers: { "user-agent": `outpost-agent/${AGENT_VERSION}` },
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message = (error as Error).message;
      lastProblem = code && !message.includes(code) ? `${message} (${code})` : message;
      continue;
    }
    let json: unknown = null;
    try {
      json = JSON.parse(response.text);
    } catch {
      // not JSON; handled below
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status, json };
    const envelope = v.safeParse(errorEnvelope(), json);
    // Redirects are not followed (fetch turned this POST into a GET on 301/302, which could not
    // enrol either); the message names the target.
    const redirected = response.status >= 300 && response.status < 400;
    const message = envelope.success
      ? envelope.output.error.message
      : redirected
        ? `HTTP ${response.status}: the server redirects to ${response.location ?? "(no location)"}; use a key that names the final URL`
        : `HTTP ${response.status}`;
    if (!isRetryable(response.status)) {
      throw new EnrollmentRefused(
        message,
        response.status,
        envelope.success ? envelope.output.error.code : undefined,
      );
    }
    lastProblem = `HTTP ${response.status}: ${message}`;
    if (response.status === 429) serverDelayMs = retryAfterMs(response.retryAfter);
  }
  throw new EnrollmentUnavailable(`could not reach ${url} after ${maxAttempts} attempts: ${lastProblem}`);
}
