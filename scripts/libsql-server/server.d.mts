// Types for server.mjs (plain ESM JavaScript, no build step).

export interface LibsqlServerOptions {
  /** Interface to bind; default "127.0.0.1". */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Directory holding one `<namespace>.db` per database; default `DATA_DIR` or ".data". */
  dataDir?: string;
  /** Idle time after which a stream expires and its transaction rolls back; default 10000. */
  streamIdleMs?: number;
  /** How long a statement retries on SQLITE_BUSY before failing; default 5000. */
  busyTimeoutMs?: number;
  /** Test-only: serve `POST /__faults` / `DELETE /__faults` to inject failures (`faults.mjs`); default false. */
  faults?: boolean;
  log?: (message: string) => void;
  /** Where the warning for a non-loopback `host` goes; default stderr. */
  warn?: (message: string) => void;
}

export interface LibsqlServer {
  /** Base URL without trailing slash, e.g. "http://127.0.0.1:41234" (database "main"). */
  url: string;
  port: number;
  /** Stops listening, rolls back open streams and closes every connection. */
  close(): Promise<void>;
}

export function startLibsqlServer(options?: LibsqlServerOptions): Promise<LibsqlServer>;

/** True for a loopback host name or address without port: 127.0.0.0/8, ::1, localhost, *.localhost. */
export function isLoopbackHost(host: string): boolean;

/** Client URL for a namespace: `${baseUrl}/${namespace}/` (the trailing slash matters). */
export function libsqlUrl(baseUrl: string, namespace?: string): string;
