// Database registry: one SQLite file per namespace under the data dir,
// created on first use. Every Hrana stream gets its own connection (so two
// streams never share a transaction); each namespace also keeps one anchor
// connection open so WAL files are not checkpointed and removed each time a
// stream's connection closes.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { analyzeStatement } from "./sql.mjs";

const require = createRequire(import.meta.url);
/** @type {any} */
const Database = require("libsql");

export const DEFAULT_NAMESPACE = "main";
const NAMESPACE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const STATEMENT_CACHE_SIZE = 64;

/** @param {string} name */
export const isValidNamespace = (name) => NAMESPACE_RE.test(name);

/** One SQLite connection, with a small cache of prepared statements. */
export class Connection {
  /** @param {string} file */
  constructor(file) {
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
  }

  /**
   * Prepares (or reuses) a statement. Throws the engine's error.
   * @param {string} sql
   */
  prepare(sql) {
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
  }
}

export class DatabaseRegistry {
  /** @param {string} dataDir */
  constructor(dataDir) {
    this.dataDir = path.resolve(dataDir);
    fs.mkdirSync(this.dataDir, { recursive: true });
    /** @type {Map<string, { file: string, anchor: Connection }>} */
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
      const anchor = new Connection(file);
      // WAL is a property of the file; setting it once is enough.
      anchor.db.exec("PRAGMA journal_mode = WAL;");
      entry = { file, anchor };
      this.databases.set(namespace, entry);
    }
    return entry;
  }

  /**
   * Opens a new connection to the namespace's database, creating it if needed.
   * @param {string} namespace
   */
  connect(namespace) {
    const conn = new Connection(this.#database(namespace).file);
    this.open.add(conn);
    return conn;
  }

  /** @param {Connection} conn */
  disconnect(conn) {
    this.open.delete(conn);
    conn.close();
  }

  closeAll() {
    for (const conn of this.open) conn.close();
    this.open.clear();
    for (const { anchor } of this.databases.values()) anchor.close();
    this.databases.clear();
  }
}
