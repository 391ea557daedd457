import { DurableObject } from "cloudflare:workers";
import { createDatabase, type Database } from "../src/db/client";
import { applyResults, type ExecutionResult, type ResultOutcome } from "../src/executions/lifecycle";
import { type Env, loadConfig } from "../workers/env";
import { GroupCommit } from "./result-writer/group-commit";

/** Results per libSQL batch (three statements each). */
const MAX_RESULTS_PER_WRITE = 100;
/** Output characters per libSQL batch: a few capped 1 MiB outputs, never hundreds of them at once. */
const MAX_OUTPUT_PER_WRITE = 4 * 1024 * 1024;

/**
 * Writes command results to libSQL for the NodeSessions (one of `RESULT_WRITER_SHARDS`, chosen by
 * execution id). A fan-out to thousands of nodes returns thousands of results within moments; each
 * session writing its own would cost one libSQL round trip per result. Here results that arrive
 * while a write is in flight go together in the next one (group commit): a lone result is written
 * at once, a burst of a thousand in a handful of batches. The writer holds nothing durable: a
 * session acks its agent only after the write that carried the result, so a lost writer means an
 * unacked result the agent sends again.
 */
export class ResultWriter extends DurableObject<Env> {
  #db?: Database;
  readonly #commits = new GroupCommit<ExecutionResult, ResultOutcome>(
    (results) => applyResults(this.#database(), results),
    {
      maxItems: MAX_RESULTS_PER_WRITE,
      maxSize: MAX_OUTPUT_PER_WRITE,
      sizeOf: (r) => r.output.length,
      retries: 2,
      retryDelayMs: 50,
    },
  );

  #database(): Database {
    if (!this.#db) {
      const config = loadConfig(this.env);
      this.#db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    }
    return this.#db;
  }

  /** Applies one result in the next group write; resolves with its outcome once that write is committed. */
  apply(result: ExecutionResult): Promise<ResultOutcome> {
    return this.#commits.submit(result);
  }
}

/** FNV-1a of the id: spreads executions evenly over the shards, the same id always to the same one. */
function shardOf(executionId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < executionId.length; i++) {
    hash ^= executionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * Writes a result through its shard's writer; without the binding (a Worker configured without it),
 * directly.
 */
export async function writeResult(env: Env, db: Database, result: ExecutionResult): Promise<ResultOutcome> {
  const namespace = env.RESULT_WRITER;
  if (!namespace) return (await applyResults(db, [result]))[0] ?? null;
  const shard = shardOf(result.executionId, loadConfig(env).resultWriterShards);
  return namespace.get(namespace.idFromName(`results-${shard}`)).apply(result);
}
