import type { TestApi } from "./harness";

/** A password that passes the 12-character rule. */
export const PASSWORD = "correct-horse-battery";

export interface Result {
  status: number;
  body: any;
  headers: Headers;
}

/** Calls the API as the holder of `token` (a key, session token or API token). */
export function as(api: TestApi, token: string | null | undefined, headers: Record<string, string> = {}) {
  async function call(method: string, path: string, json?: unknown): Promise<Result> {
    const res = await api.fetch(path, {
      method,
      auth: token,
      headers,
      ...(json !== undefined ? { json } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }
  return {
    get: (p: string) => call("GET", p),
    post: (p: string, j: unknown = {}) => call("POST", p, j),
    patch: (p: string, j: unknown = {}) => call("PATCH", p, j),
    put: (p: string, j: unknown = {}) => call("PUT", p, j),
    del: (p: string) => call("DELETE", p),
  };
}

/** Creates a user with the API key and returns its id. */
export async function createUser(api: TestApi, username: string, roles: string[], password = PASSWORD) {
  const res = await as(api, undefined).post("/api/v1/users", { username, password, roles });
  if (res.status !== 201) throw new Error(`user ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.id as string;
}

/** Logs in and returns the session token. */
export async function login(api: TestApi, username: string, password = PASSWORD): Promise<string> {
  const res = await as(api, null).post("/api/v1/auth/login", { username, password });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.token as string;
}

/** A user with `roles`, logged in: its id and a client bound to its session. */
export async function userSession(api: TestApi, username: string, roles: string[]) {
  const id = await createUser(api, username, roles);
  const token = await login(api, username);
  return { id, token, client: as(api, token) };
}
