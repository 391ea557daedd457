import * as v from "valibot";
import { decodeChunkFrame } from "../../src/protocol/chunk-frames";
import {
  familyOf,
  methodSchemas,
  type ReachFamily,
  streamParamsSchema,
} from "../../src/protocol/reach-methods";
import type {
  RpcFrame,
  StreamCreditFrame,
  StreamDataFrame,
  StreamStartFrame,
} from "../../src/protocol/rpc-frames";
import type { FrameSink } from "../dispatcher";
import type { Logger } from "../log";
import type { Family } from "./family";
import { type ReachPolicy, RpcFailure } from "./policy";
import { type ByteSink, StreamSender } from "./stream-sender";

// Loaded lazily: an agent nobody reaches into never pays their memory (its RSS is capped).
const LOADERS: Record<ReachFamily, () => Promise<Family>> = {
  processes: () => import("./processes").then((m) => m.family),
  logs: () => import("./logs").then((m) => m.family),
  files: () => import("./files").then((m) => m.family),
};

function failure(error: unknown): { code: RpcFailure["code"]; message: string } {
  if (error instanceof RpcFailure) return { code: error.code, message: error.message.slice(0, 1024) };
  return { code: "internal", message: String((error as Error)?.message ?? error).slice(0, 1024) };
}

/**
 * Answers the server's `rpc` frames and serves its streams. Params are validated against the method
 * catalog before any handler runs; every failure is an `rpc_result` with an error, never a crash.
 */
export class RpcServer {
  private readonly families = new Map<ReachFamily, Promise<Family>>();
  private readonly streams = new Map<string, StreamSender>();

  constructor(
    private readonly policy: ReachPolicy,
    private readonly send: FrameSink,
    private readonly log: Logger,
    private readonly bytes?: ByteSink,
  ) {}

  private family(name: ReachFamily): Promise<Family> {
    let loaded = this.families.get(name);
    if (!loaded) {
      loaded = LOADERS[name]();
      this.families.set(name, loaded);
    }
    return loaded;
  }

  async call(frame: v.InferOutput<typeof RpcFrame>): Promise<void> {
    try {
      // deadline_ms is the server's clock: not compared here, since a host whose clock is off would
      // refuse every call; the server drops an answer that comes after it stopped waiting.
      const parsed = v.safeParse(methodSchemas(frame.method).params, frame.params);
      if (!parsed.success) throw new RpcFailure("bad_request", `invalid params: ${parsed.issues[0].message}`);
      const family = await this.family(familyOf(frame.method));
      const result = await family.call(frame.method, parsed.output, this.policy);
      this.send({ type: "rpc_result", id: frame.id, ok: true, result });
    } catch (error) {
      const err = failure(error);
      if (err.code === "internal")
        this.log.warn("rpc failed", { method: frame.method, problem: err.message });
      this.send({ type: "rpc_result", id: frame.id, ok: false, error: err });
    }
  }

  async startStream(frame: v.InferOutput<typeof StreamStartFrame>): Promise<void> {
    const sender = new StreamSender(frame.stream_id, frame.credits, this.send, this.bytes);
    this.streams.set(frame.stream_id, sender);
    try {
      const parsed = v.safeParse(streamParamsSchema(frame.kind), frame.params);
      if (!parsed.success) throw new RpcFailure("bad_request", `invalid params: ${parsed.issues[0].message}`);
      const family = await this.family(familyOf(frame.kind));
      if (!family.stream) throw new RpcFailure("unsupported", `${frame.kind} is not a stream`);
      await family.stream(frame.kind, parsed.output, sender, this.policy);
      sender.end(sender.stopped ? "stopped" : "eof");
    } catch (error) {
      sender.end("error", failure(error));
    } finally {
      this.streams.delete(frame.stream_id);
    }
  }

  /** Server → agent `stream_data`: no stream of this agent takes items (uploads come as binary chunks). */
  data(frame: v.InferOutput<typeof StreamDataFrame>): void {
    this.refuse(frame.stream_id, "unsupported", "upload bytes come as binary chunk frames (files.v3)");
  }

  /** A server → agent binary message: an upload's chunk, for the files family that opened it. */
  binary(message: Uint8Array): void {
    const chunk = decodeChunkFrame(message);
    if ("error" in chunk) {
      this.log.warn("ignoring an invalid binary frame from the server", { problem: chunk.error });
      this.send({ type: "error", code: "invalid_frame", message: chunk.error });
      return;
    }
    const files = this.families.get("files");
    if (!files) {
      this.refuse(chunk.streamId, "not_found", "no such upload");
      return;
    }
    // Callbacks on one promise run in the order they were added, so chunks keep their order.
    void files
      .then((family) => family.receive?.(chunk.streamId, chunk.seq, chunk.bytes, this.send))
      .catch((error) => this.log.warn("an upload chunk failed", { problem: (error as Error).message }));
  }

  private refuse(streamId: string, code: "not_found" | "unsupported", message: string): void {
    this.send({ type: "stream_end", stream_id: streamId, reason: "error", error: { code, message } });
  }

  credit(frame: v.InferOutput<typeof StreamCreditFrame>): void {
    this.streams.get(frame.stream_id)?.grant(frame.credits);
  }

  stopStream(streamId: string): void {
    this.streams.get(streamId)?.stop();
  }

  /** The socket closed: the server forgot every stream and call, so producers stop and uploads are dropped. */
  stopAll(): void {
    for (const sender of this.streams.values()) sender.stop();
    for (const loaded of this.families.values())
      void loaded
        .then((family) => family.disconnected?.())
        .catch((error) =>
          this.log.warn("cleanup after a disconnect failed", { problem: (error as Error).message }),
        );
  }
}
