// Types for databases.mjs (plain ESM JavaScript, no build step).

export const DEFAULT_NAMESPACE: string;
export function isValidNamespace(name: string): boolean;

export class Connection {
  readonly namespace: string;
  /** False once a statement may have left per-connection state behind (PRAGMA, ATTACH, TEMP objects). */
  readonly reusable: boolean;
  readonly inTransaction: boolean;
  exec(sql: string): void;
  /** A statement failed: the engine may have left it holding a snapshot, so the connection is not reused. */
  noteFailure(): void;
  /** The engine's statement object (better-sqlite3 API). */
  prepare(sql: string): any;
  close(): void;
}

export class DatabaseRegistry {
  constructor(dataDir: string);
  readonly dataDir: string;
  /** A connection for one stream: an idle pooled one, or a new one. */
  connect(namespace: string): Connection;
  /** Ends a stream's use: pooled when clean (open transaction rolled back), closed otherwise. */
  disconnect(conn: Connection): void;
  /** Connections streams hold plus idle pooled ones. */
  readonly connectionCount: number;
  closeAll(): void;
}
