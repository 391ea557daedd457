import type { Connection } from "partyserver";
import * as v from "valibot";
import type { NodeStatus } from "../../src/nodes/status";
import { encodeServerFrame } from "../../src/protocol/frames";
import {
  capabilityOf,
  type MethodParams,
  type MethodResult,
  REACH_METHODS,
  type ReachMethod,
  type RpcErrorCode,
} from "../../src/protocol/reach-methods";
import type { RpcResultFrame } from "../../src/protocol/rpc-frames";

/**
 * How one call to the agent ended. Returned (never thrown) across the Worker → object RPC boundary,
 * which keeps an error's message but not its class; `workers/services/node-reach.ts` maps each to a status.
 */
export type RpcOutcome<T> =
  | { status: "ok"; result: T }
  | { status: "error"; code: RpcErrorCode; message: string }
  | { status: "offline"; node_status: NodeStatus }
  | { status: "timeout" }
  | { status: "unsupported"; capability: string };

interface Pending {
  method: ReachMethod;
  resolve(outcome: RpcOutcome<unknown>): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The store key under which the session keeps the capabilities of its agent's latest hello. */
export const CAPABILITIES_KEY = "capabilities";

/** The capability a method or stream needs when the agent did not announce it, else null. */
export function missingCapability(
  capabilities: readonly string[] | undefined,
  method: string,
): string | null {
  const capability = capabilityOf(method);
  return capabilities?.includes(capability) ? null : capability;
}

/**
 * The object's calls waiting for an `rpc_result`: each ends with the agent's answer, its deadline, or
 * the connection closing. Nothing is re-sent after a reconnect, so a side effect is never asked twice.
 */
export class PendingRpcs {
  readonly #pending = new Map<string, Pending>();

  get size(): number {
    return this.#pending.size;
  }

  /** Sends `rpc` for `method` on `conn` and resolves with how it ended (after at most `timeoutMs`). */
  call<M extends ReachMethod>(
    conn: Connection,
    method: M,
    params: MethodParams<M>,
    timeoutMs: number,
  ): Promise<RpcOutcome<MethodResult<M>>> {
    const id = crypto.randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ status: "timeout" });
      }, timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as Pending["resolve"], timer });
      try {
        conn.send(
          encodeServerFrame({
            type: "rpc",
            id,
            method,
            params: params as Record<string, unknown>,
            deadline_ms: Date.now() + timeoutMs,
          }),
        );
      } catch {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve({ status: "offline", node_status: "unreachable" });
      }
    });
  }

  /** The agent's answer; one that matches no waiting call (late, after its deadline) is ignored. */
  settle(frame: v.InferOutput<typeof RpcResultFrame>): boolean {
    const pending = this.#pending.get(frame.id);
    if (!pending) return false;
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (!frame.ok) {
      pending.resolve({
        status: "error",
        code: frame.error?.code ?? "internal",
        message: frame.error?.message ?? "the agent reported an error",
      });
      return true;
    }
    const parsed = v.safeParse(REACH_METHODS[pending.method].result, frame.result);
    pending.resolve(
      parsed.success
        ? { status: "ok", result: parsed.output }
        : {
            status: "error",
            code: "internal",
            message: `the agent's answer to ${pending.method} is malformed`,
          },
    );
    return true;
  }

  /** The connection closed: every waiting call ends as offline. */
  failAll(): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve({ status: "offline", node_status: "unreachable" });
      this.#pending.delete(id);
    }
  }
}
