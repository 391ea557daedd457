import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../../workers/env";
import worker from "../../workers/index";
import { buildOpenApiDocument } from "../../workers/openapi/document";
import { migrateDatabase } from "../support/migrations";
import { documentedResponseProblems, type OpenApiDocument } from "../support/response-schemas";

export const API_KEY = (env as Env).API_KEY!;
export const MASTER_KEY = (env as Env).MASTER_KEY!;

/** A database namespace on the shared dev server; the trailing slash matters (the client resolves `v2/pipeline` against it). */
export function namespaceUrl(base: string, namespace: string): string {
  return `${base.replace(/\/+$/, "")}/${namespace}/`;
}

export interface TestApi {
  env: Env;
  /** Calls the Worker's fetch handler in-process with this file's env. */
  fetch(path: string, init?: RequestInit & { json?: unknown; auth?: string | null }): Promise<Response>;
  get(path: string): Promise<{ status: number; body: any; headers: Headers }>;
  post(path: string, json?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  patch(path: string, json?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  del(path: string): Promise<{ status: number; body: any; headers: Headers }>;
}

let openApi: OpenApiDocument | undefined;

/**
 * Throws when a 2xx answer does not match what the OpenAPI document says for its operation and
 * status (the body validated against the documented schema). Event streams are not read.
 */
async function assertDocumented(method: string, path: string, res: Response): Promise<void> {
  if (res.status < 200 || res.status >= 300) return;
  openApi ??= buildOpenApiDocument() as unknown as OpenApiDocument;
  const type = res.headers.get("content-type");
  const text = /^text\/event-stream/i.test(type ?? "") ? null : await res.clone().text();
  const problems = documentedResponseProblems(openApi, method, path, res.status, type, text);
  if (problems.length > 0) {
    throw new Error(`undocumented response:\n  ${problems.join("\n  ")}\n  body: ${text?.slice(0, 500)}`);
  }
}

/**
 * A fresh, migrated database and an API client bound to it, with `overrides`
 * applied to the Worker's bindings (e.g. `{ DEFAULT_CLUSTER_NAME: "edge" }`).
 * Every 2xx answer is checked against the OpenAPI document unless `checkResponses` is false
 * (the fuzzer checks them itself, to report them as its own findings).
 */
export async function createTestApi(
  overrides: Partial<Env> = {},
  options: { sharedDatabase?: boolean; checkResponses?: boolean } = {},
): Promise<TestApi> {
  const base = (env as Env).LIBSQL_URL!;
  // Durable Objects read LIBSQL_URL from their own bindings, so tests that involve them use the shared root database.
  const url =
    overrides.LIBSQL_URL ??
    (options.sharedDatabase ? base : namespaceUrl(base, `t_${crypto.randomUUID().replace(/-/g, "")}`));
  if (!overrides.LIBSQL_URL && !options.sharedDatabase) await migrateDatabase(url);
  const testEnv: Env = { ...(env as Env), ...overrides, LIBSQL_URL: url };

  async function doFetch(path: string, init: RequestInit & { json?: unknown; auth?: string | null } = {}) {
    const headers = new Headers(init.headers);
    if (init.auth !== null && !headers.has("authorization"))
      headers.set("authorization", `Bearer ${init.auth ?? API_KEY}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`http://outpost.test${path}`, { ...init, headers, body }),
      testEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    if (options.checkResponses !== false) await assertDocumented(init.method ?? "GET", path, res);
    return res;
  }
  async function call(method: string, path: string, json?: unknown) {
    const res = await doFetch(path, { method, json });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }
  return {
    env: testEnv,
    fetch: doFetch,
    get: (p) => call("GET", p),
    post: (p, j) => call("POST", p, j ?? {}),
    patch: (p, j) => call("PATCH", p, j ?? {}),
    del: (p) => call("DELETE", p),
  };
}

/** Retries an assertion until it passes or `timeoutMs` is over (Durable Objects write asynchronously). */
export async function eventually(assertion: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
