// Full garbage collections once a burst of work is over (issue 25, docs/agent-footprint.md).
// An idle agent allocates so little that V8 seldom runs a full GC on its own: the garbage of an
// inventory run or a command's output (~0.6 MB of dead buffers were seen) and the bytecode of code
// that ran once (enrolment, the collectors) stayed resident. The wrapper passes `--expose-gc` and
// `--bytecode-old-age=1`, so two full GCs after the work free the garbage and flush that bytecode
// (a function compiles again when it runs next). Without `--expose-gc` this does nothing.
import { type Cancel, type Clock, systemClock } from "./interval";

/** After the last frame of a burst: the first GC, then the one that flushes the aged bytecode. */
export const RELEASE_AFTER_MS = [1_000, 4_000] as const;

/**
 * After a heartbeat, one full GC. Each heartbeat touches the young generation's pages (metrics,
 * the frame, its schema built for that frame) and they stayed resident until the next full GC; a
 * full GC at a low allocation rate gives the idle semi-space back (V8 uncommits it), so an idle
 * agent sits at its floor between heartbeats instead of ~0.5 MB above it. ~6 ms of CPU per
 * heartbeat (0.04 % of a core at 15 s).
 */
export const AFTER_HEARTBEAT_MS = 100;

/** Frames an idle agent sends all the time: they are not work to clean up after. */
const ROUTINE_FRAMES = new Set(["heartbeat", "pong", "metrics", "metrics_stream"]);

export class MemoryRelease {
  private cancels: Cancel[] = [];
  private heartbeatCancel: Cancel | undefined;

  constructor(
    private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
    private readonly clock: Clock = systemClock,
  ) {}

  /** True when the process was started with `--expose-gc` (the installed wrapper does). */
  get enabled(): boolean {
    return this.gc !== undefined;
  }

  /** A frame of this type went out: collect once the burst it belongs to is over. */
  sent(frameType: string): void {
    if (frameType === "heartbeat") this.afterHeartbeat();
    else if (!ROUTINE_FRAMES.has(frameType)) this.afterWork();
  }

  private afterHeartbeat(): void {
    const gc = this.gc;
    if (!gc) return;
    this.heartbeatCancel?.();
    this.heartbeatCancel = this.clock.setTimeout(gc, AFTER_HEARTBEAT_MS);
  }

  /** (Re)arms the collections: they run RELEASE_AFTER_MS after the latest call. */
  afterWork(): void {
    const gc = this.gc;
    if (!gc) return;
    this.stop();
    this.cancels = RELEASE_AFTER_MS.map((ms) => this.clock.setTimeout(gc, ms));
  }

  stop(): void {
    for (const cancel of this.cancels) cancel();
    this.cancels = [];
    this.heartbeatCancel?.();
    this.heartbeatCancel = undefined;
  }
}

/** Bytes an upload writes between two full GCs (see TransferGarbage). */
export const TRANSFER_GC_BYTES = 4 * 1024 * 1024;

/**
 * A full GC every TRANSFER_GC_BYTES of an upload. Each 512 KiB chunk arrives in buffers of its own
 * (the socket's reads, then ws's message), dead once the chunk is on disk; they live outside V8's
 * heap, whose few small objects seldom trigger a collection, so V8 took them only once tens of MB
 * had piled up (a 50 MiB upload peaked at 64 MB, anonymous 28 MB over ~10 idle). With a full GC
 * every 4 MiB: 55 MB (anonymous 19); a young-generation GC only: 59 MB (some chunks wait in the
 * window long enough to be promoted). The agent's heap is ~6 MB, so each takes a few ms, about a
 * dozen per 50 MiB. Does nothing without `--expose-gc`.
 */
export class TransferGarbage {
  private since = 0;

  constructor(private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc) {}

  moved(bytes: number): void {
    this.since += bytes;
    if (this.since < TRANSFER_GC_BYTES || !this.gc) return;
    this.since = 0;
    this.gc();
  }
}
