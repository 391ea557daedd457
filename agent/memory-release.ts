// Full garbage collections once a burst of work is over (issue 25, docs/agent-footprint.md).
// An idle agent allocates so little that V8 seldom runs a full GC on its own: the garbage of an
// inventory run or a command's output (~0.6 MB of dead buffers were seen) and the bytecode of code
// that ran once (enrolment, the collectors) stayed resident. The wrapper passes `--expose-gc` and
// `--bytecode-old-age=1`, so two full GCs after the work free the garbage and flush that bytecode
// (a function compiles again when it runs next). Without `--expose-gc` this does nothing.
import { type Cancel, type Clock, systemClock } from "./interval";

/** After the last frame of a burst: the first GC, then the one that flushes the aged bytecode. */
export const RELEASE_AFTER_MS = [1_000, 4_000] as const;

/** Frames an idle agent sends all the time: they are not work to clean up after. */
const ROUTINE_FRAMES = new Set(["heartbeat", "pong", "metrics", "metrics_stream"]);

export class MemoryRelease {
  private cancels: Cancel[] = [];

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
    if (!ROUTINE_FRAMES.has(frameType)) this.afterWork();
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
  }
}
