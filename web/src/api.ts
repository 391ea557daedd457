// The console's only way to the server: the public REST API on this origin. The secret (a user
// session token, an API token or the API key) lives in memory and in sessionStorage (gone with the
// tab), and goes only into the Authorization header; event streams use short stream tokens.
const STORAGE_KEY = "outpost.console.token";

let token: string | null = sessionStorage.getItem(STORAGE_KEY);
const listeners = new Set<() => void>();

export function currentToken(): string | null {
  return token;
}

export function setToken(next: string | null): void {
  token = next;
  if (next) sessionStorage.setItem(STORAGE_KEY, next);
  else sessionStorage.removeItem(STORAGE_KEY);
  for (const listener of listeners) listener();
}

export function onTokenChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export interface Pagination {
  page: number;
  page_size: number;
  total_count: number;
  total_pages: number;
  has_next: boolean;
  has_prev: boolean;
}

/** An error answer of the API: its code, message, field details and request id. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string[]> | null,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function failure(res: Response): Promise<ApiError> {
  const json = await res.json().catch(() => null);
  const err = json?.error;
  if (res.status === 401 && token) setToken(null);
  return new ApiError(
    res.status,
    err?.code ?? "http_error",
    err?.message ?? `${res.status} ${res.statusText}`,
    err?.details ?? null,
    json?.meta?.request_id ?? res.headers.get("x-request-id"),
  );
}

function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function request(method: string, path: string, body?: unknown): Promise<any> {
  const headers = authHeaders({ Accept: "application/json" });
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await answerOf(res);
}

/** An answer's JSON body (null for 204); an error answer as ApiError. */
async function answerOf(res: Response): Promise<any> {
  if (res.status === 204) return null;
  if (!res.ok) throw await failure(res);
  return res.json().catch(() => null);
}

/** A binary answer (a file from a node) as a Blob; errors as ApiError like every other call. */
export async function download(path: string, query?: Query): Promise<Blob> {
  const res = await fetch(withQuery(path, query), { headers: authHeaders() });
  if (!res.ok) throw await failure(res);
  return res.blob();
}

/** A multipart upload (the browser sets the boundary); answers the JSON `data`. */
export async function upload<T = unknown>(path: string, form: FormData): Promise<T> {
  const res = await fetch(path, {
    method: "POST",
    headers: authHeaders({ Accept: "application/json" }),
    body: form,
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()).data as T;
}

export async function get<T = any>(path: string, query?: Query): Promise<T> {
  return (await request("GET", withQuery(path, query))).data as T;
}

export async function list<T = any>(
  path: string,
  query?: Query,
): Promise<{ data: T[]; pagination: Pagination }> {
  return listOf<T>(await request("GET", withQuery(path, query)));
}

/**
 * A list request sent by the page's inline script (web/index.html): its JSON body, or the Response of
 * an error answer, which becomes the same ApiError as list() would throw.
 */
export async function listFromEarly<T = any>(
  body: Promise<unknown>,
): Promise<{ data: T[]; pagination: Pagination }> {
  let json: unknown;
  try {
    json = await body;
  } catch (error) {
    throw error instanceof Response ? await failure(error) : error;
  }
  return listOf<T>(json);
}

export function listOf<T>(json: any): { data: T[]; pagination: Pagination } {
  return { data: json.data as T[], pagination: json.meta.pagination as Pagination };
}

/** A list answer whole, meta included (cursor paging: `meta.pagination.next_cursor`). */
export async function page<T, M = Record<string, unknown>>(
  path: string,
  query?: Query,
): Promise<{ data: T[]; meta: M }> {
  return await request("GET", withQuery(path, query));
}

export async function send<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return (await request(method, path, body))?.data as T;
}

export interface StreamHandlers {
  onEvent(event: string, data: any): void;
  onError?(error: unknown): void;
}

/**
 * Opens a Server-Sent Events path with a fresh stream token (`?token=` accepts nothing else); the
 * token is for the path alone, `query` (the stream's filters) rides beside it.
 * Returns a function that closes the stream.
 */
export function openStream(
  path: string,
  events: string[],
  handlers: StreamHandlers,
  query: Query = {},
): () => void {
  let source: EventSource | null = null;
  let closed = false;
  send<{ token: string }>("POST", "/api/v1/stream_tokens", { path })
    .then(({ token: streamToken }) => {
      if (closed) return;
      source = new EventSource(withQuery(path, { ...query, token: streamToken }));
      for (const name of events)
        source.addEventListener(name, (e) => {
          let data: unknown = null;
          try {
            data = JSON.parse((e as MessageEvent).data);
          } catch {
            data = (e as MessageEvent).data;
          }
          handlers.onEvent(name, data);
        });
      source.onerror = (e) => handlers.onError?.(e);
    })
    .catch((e) => handlers.onError?.(e));
  return () => {
    closed = true;
    source?.close();
  };
}

/** Everything but a 404 is worth showing; a 404 on a whole route means this server lacks it. */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && /^No route/.test(error.message);
}
