// Hrana-over-HTTP streams and their batons. A baton is
// "<stream id>.<token>"; the token changes on every response, so a baton
// works once, and requests on one stream are serialized. Idle streams
// expire: their connection closes, which rolls back an open transaction.

import { randomBytes } from "node:crypto";
import { HttpError } from "./errors.mjs";

/** How long an expired stream is remembered, to answer "expired" rather than "invalid". */
const EXPIRED_MEMORY_MS = 5 * 60 * 1000;
const EXPIRED_MEMORY_MAX = 10000;

const newId = () => randomBytes(12).toString("base64url");

/**
 * @typedef {import("./databases.mjs").DatabaseRegistry} DatabaseRegistry
 * @typedef {import("./databases.mjs").Connection} Connection
 */

export class Stream {
  /**
   * @param {StreamRegistry} owner
   * @param {string} namespace
   */
  constructor(owner, namespace) {
    this.owner = owner;
    this.id = newId();
    this.namespace = namespace;
    this.token = newId();
    /** @type {Connection | null} */
    this.connection = null;
    /** @type {Map<number, string>} SQL texts stored with `store_sql` */
    this.sqls = new Map();
    this.closed = false;
    this.acquired = false;
    /** @type {NodeJS.Timeout | null} */
    this.timer = null;
  }

  /** The stream's connection, opened on first use. */
  get conn() {
    if (this.closed) throw new Error("stream is closed");
    this.connection ??= this.owner.databases.connect(this.namespace);
    return this.connection;
  }

  /** Closes the stream; an open transaction is rolled back. */
  close() {
    this.closed = true;
    this.sqls.clear();
    if (this.connection) {
      this.owner.databases.disconnect(this.connection);
      this.connection = null;
    }
  }
}

export class StreamRegistry {
  /**
   * @param {{ databases: DatabaseRegistry, idleMs: number, log: (msg: string) => void }} options
   */
  constructor({ databases, idleMs, log }) {
    this.databases = databases;
    this.idleMs = idleMs;
    this.log = log;
    /** @type {Map<string, Stream>} */
    this.streams = new Map();
    /** @type {Map<string, number>} stream id -> when it expired */
    this.expired = new Map();
  }

  /**
   * Creates a new stream (acquired by the caller).
   * @param {string} namespace
   */
  create(namespace) {
    const stream = new Stream(this, namespace);
    stream.acquired = true;
    this.streams.set(stream.id, stream);
    return stream;
  }

  /**
   * Finds the stream a baton refers to and acquires it for one HTTP request.
   * @param {unknown} baton
   * @param {string} namespace the namespace of the request's URL
   */
  acquire(baton, namespace) {
    if (typeof baton !== "string") throw new HttpError(400, "The baton must be a string", "BATON_INVALID");
    const [id, token] = baton.split(".");
    const stream = this.streams.get(id);
    if (!stream) {
      if (this.expired.has(id)) {
        throw new HttpError(400, "The stream has expired due to inactivity", "STREAM_EXPIRED");
      }
      throw new HttpError(
        400,
        "Invalid baton: no such stream (it was closed, or the server restarted)",
        "BATON_INVALID",
      );
    }
    if (stream.namespace !== namespace) {
      throw new HttpError(400, "Invalid baton: the stream belongs to another database", "BATON_INVALID");
    }
    if (stream.acquired || stream.token !== token) {
      throw new HttpError(
        400,
        "The baton was already used: requests on a stream must be sent one after another",
        "BATON_REUSED",
      );
    }
    if (stream.timer) clearTimeout(stream.timer);
    stream.timer = null;
    stream.acquired = true;
    return stream;
  }

  /**
   * Ends one HTTP request on the stream. Returns the baton for the next
   * request, or null when the stream is closed.
   * @param {Stream} stream
   * @returns {string | null}
   */
  release(stream) {
    stream.acquired = false;
    if (stream.closed) {
      this.streams.delete(stream.id);
      return null;
    }
    stream.token = newId();
    stream.timer = setTimeout(() => this.expire(stream), this.idleMs);
    stream.timer.unref?.();
    return `${stream.id}.${stream.token}`;
  }

  /** @param {Stream} stream */
  expire(stream) {
    if (stream.acquired || stream.closed) return;
    const hadTransaction = stream.connection?.inTransaction ?? false;
    stream.close();
    this.streams.delete(stream.id);
    this.#rememberExpired(stream.id);
    this.log(
      `stream ${stream.id} on "${stream.namespace}" expired${hadTransaction ? ", transaction rolled back" : ""}`,
    );
  }

  /** @param {string} id */
  #rememberExpired(id) {
    const now = Date.now();
    this.expired.set(id, now);
    for (const [oldId, at] of this.expired) {
      if (now - at < EXPIRED_MEMORY_MS && this.expired.size <= EXPIRED_MEMORY_MAX) break;
      this.expired.delete(oldId);
    }
  }

  closeAll() {
    for (const stream of this.streams.values()) {
      if (stream.timer) clearTimeout(stream.timer);
      stream.close();
    }
    this.streams.clear();
    this.expired.clear();
  }
}
