// Database registry: one SQLite file per namespace under the data dir,
// created on first use. Every Hrana stream gets a connection of its own (so
// two streams never share a transaction). A stream's connection goes back to
// a small per-namespace pool when the stream ends: @libsql/client opens one
// stream per request, and opening a connection (file, WAL index, schema) cost
// more than the statements of most requests. Each namespace also keeps one
// anchor connection open so WAL files are not checkpointed and removed each
// time the last other connection closes.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { analyzeStatement } from "./sql.mjs";
import { WriteQueue } from "./write-queue.mjs";

const require = createRequire(import.meta.url);
/** @type {any} */
const Database = require("libsql");

export const DEFAULT_NAMESPACE = "main";
const NAMESPACE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const STATEMENT_CACHE_SIZE = 64;
/** Idle connections kept per namespace; more concurrent streams open (and later close) their own. */
const POOL_SIZE = 8;
/**
 * First keywords of statements that leave nothing behind on the connection
 * once the stream's transaction is over. Anything else may, so such a
 * connection is closed rather than handed to the next stream: PRAGMA, ATTACH
 * and CREATE TEMP change per-connection state, and the engine leaves an
 * EXPLAIN of a write statement active after its last row, so the next write on
 * that connection never commits and holds the database's write lock.
 */
const STATELESS = new Set([
  "select",
  "values",
  "with",
  "insert",
  "update",
  "delete",
  "replace",
  "begin",
  "commit",
  "end",
  "rollback",
  "savepoint",
  "release",
  "create",
  "drop",
  "alter",
]);

/** @param {string} name */
export const isValidNamespace = (name) => NAMESPACE_RE.test(name);

/** One SQLite connection, with a small cache of prepared statements. */
export class Connection {
  /**
   * @param {string} file
   * @param {string} namespace
   * @param {WriteQueue} [writers] the namespace's line of writers waiting for its lock
   */
  constructor(file, namespace, writers = new WriteQueue()) {
    this.namespace = namespace;
    this.writers = writers;
    // timeout 0: a busy wait would block the event loop, and with it the
    // stream that holds the lock. Busy errors are retried asynchronously.
    this.db = new Database(file, { timeout: 0 });
    this.db.exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;");
    /** @type {Map<string, any>} */
    this.statements = new Map();
    /** @type {Map<string, ReturnType<typeof analyzeStatement>>} */
    this.analyses = new Map();
    this.infoStmt = this.db.prepare("SELECT changes(), last_insert_rowid(), total_changes()");
    this.infoStmt.safeIntegers(true).raw(true);
    /** False once a statement may have changed per-connection state. */
    this.reusable = true;
  }

  /**
   * Notes a statement about to run: one that may leave per-connection state
   * behind makes the connection not reusable by another stream.
   * @param {string} sql
   */
  #track(sql) {
    if (!this.reusable) return;
    const { firstWord, words } = this.analyze(sql);
    if (!STATELESS.has(firstWord ?? "") || words.has("temp") || words.has("temporary")) this.reusable = false;
  }

  /**
   * A statement failed. The engine leaves a failed statement active (after SQLITE_BUSY_SNAPSHOT it
   * keeps its read snapshot even past ROLLBACK, so every later write on the connection fails the
   * same way); such a connection must not serve another stream.
   */
  noteFailure() {
    this.reusable = false;
  }

  /**
   * Runs a script with the engine's `exec`. Throws the engine's error.
   * @param {string} sql
   */
  exec(sql) {
    this.#track(sql);
    this.db.exec(sql);
  }

  /**
   * Prepares (or reuses) a statement. Throws the engine's error.
   * @param {string} sql
   */
  prepare(sql) {
    this.#track(sql);
    let stmt = this.statements.get(sql);
    if (stmt) {
      this.statements.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      stmt.safeIntegers(true);
      if (stmt.reader) stmt.raw(true);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        this.statements.delete(this.statements.keys().next().value);
      }
    }
    this.statements.set(sql, stmt);
    return stmt;
  }

  /** @param {string} sql */
  analyze(sql) {
    let analysis = this.analyses.get(sql);
    if (!analysis) {
      analysis = analyzeStatement(sql);
      if (this.analyses.size >= STATEMENT_CACHE_SIZE) this.analyses.clear();
      this.analyses.set(sql, analysis);
    }
    return analysis;
  }

  /** @returns {{ changes: bigint, lastInsertRowid: bigint, totalChanges: bigint }} */
  info() {
    const [changes, lastInsertRowid, totalChanges] = this.infoStmt.get([]);
    return { changes, lastInsertRowid, totalChanges };
  }

  get inTransaction() {
    return this.db.open && this.db.inTransaction;
  }

  /**
   * After a statement: if it ended a transaction, or was a write outside one, the write lock may
   * have been released, so the first writer waiting for it tries now.
   * @param {boolean} wasInTransaction
   * @param {boolean} wrote
   */
  settled(wasInTransaction, wrote) {
    if (!this.inTransaction && (wasInTransaction || wrote)) this.writers.released();
  }

  /**
   * Ends the connection's use by a stream: an open transaction is rolled back.
   * Returns whether the connection is clean and can serve another stream.
   */
  reset() {
    if (!this.db.open || !this.reusable) return false;
    try {
      if (this.db.inTransaction) {
        this.db.exec("ROLLBACK");
        this.writers.released();
      }
      return !this.db.inTransaction;
    } catch {
      return false;
    }
  }

  /** Closes the connection; SQLite rolls back an open transaction. */
  close() {
    if (!this.db.open) return;
    try {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
    } catch {
      // the transaction may already be gone; closing is what matters
    }
    this.statements.clear();
    this.db.close();
    this.writers.released();
  }
}

export class DatabaseRegistry {
  /** @param {string} dataDir */
  constructor(dataDir) {
    this.dataDir = path.resolve(dataDir);
    fs.mkdirSync(this.dataDir, { recursive: true });
    /** @type {Map<string, { file: string, anchor: Connection, idle: Connection[], writers: WriteQueue }>} */
    this.databases = new Map();
    /** @type {Set<Connection>} */
    this.open = new Set();
  }

  /** @param {string} namespace */
  fileFor(namespace) {
    return path.join(this.dataDir, `${namespace}.db`);
  }

  /** @param {string} namespace */
  #database(namespace) {
    let entry = this.databases.get(namespace);
    if (!entry) {
      const file = this.fileFor(namespace);
      const writers = new WriteQueue();
      const anchor = new Connection(file, namespace, writers);
      // WAL is a property of the file; setting it once is enough.
      anchor.db.exec("PRAGMA journal_mode = WAL;");
      entry = { file, anchor, idle: [], writers };
      this.databases.set(namespace, entry);
    }
    return entry;
  }

  /**
   * Opens a new connection to the namespace's database, creating it if needed.
   * @param {string} namespace
   */
  connect(namespace) {
    const entry = this.#database(namespace);
    const conn = entry.idle.pop() ?? new Connection(entry.file, namespace, entry.writers);
    this.open.add(conn);
    return conn;
  }

  /**
   * Ends a stream's use of its connection: back to the pool when it is clean
   * and the pool has room, closed otherwise.
   * @param {Connection} conn
   */
  disconnect(conn) {
    this.open.delete(conn);
    const idle = this.databases.get(conn.namespace)?.idle;
    if (idle && idle.length < POOL_SIZE && conn.reset()) idle.push(conn);
    else conn.close();
  }

  /** Open connections: those streams hold plus the idle ones in the pools (anchors not counted). */
  get connectionCount() {
    let idle = 0;
    for (const entry of this.databases.values()) idle += entry.idle.length;
    return this.open.size + idle;
  }

  closeAll() {
    for (const conn of this.open) conn.close();
    this.open.clear();
    for (const { anchor, idle } of this.databases.values()) {
      for (const conn of idle) conn.close();
      anchor.close();
    }
    this.databases.clear();
  }
}
