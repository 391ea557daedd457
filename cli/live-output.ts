// Live output of many executions on one terminal: each complete line is printed with its node's
// label in front; a stream that is opened again (the server replays what it still holds) or the
// final stored output only ever adds what was not printed yet.

/** Where lines go (stdout), with a hook to clear and redraw a progress line around them. */
export interface LineSink {
  write(text: string): void;
}

class ExecutionOutput {
  /** Everything printed so far (complete lines and the held partial one). */
  private printed = "";
  private partial = "";

  constructor(
    private readonly prefix: string,
    private readonly sink: LineSink,
  ) {}

  /** A stream (re)opened: what it delivered so far, from its start. */
  offer(streamText: string): void {
    if (streamText.length <= this.printed.length) return;
    if (streamText.startsWith(this.printed)) this.emit(streamText.slice(this.printed.length));
    else if (!this.printed) this.emit(streamText);
    // A replay that no longer starts where ours did (the server's buffer dropped the head): the
    // stored output at the end settles it.
  }

  private emit(text: string): void {
    this.printed += text;
    const lines = (this.partial + text).split("\n");
    this.partial = lines.pop() ?? "";
    if (lines.length) this.sink.write(lines.map((l) => `${this.prefix}${l}\n`).join(""));
  }

  /** The final stored output: print whatever is still missing, then any unterminated last line. */
  finish(stored: string | null): void {
    if (stored) this.offer(stored);
    if (this.partial) this.sink.write(`${this.prefix}${this.partial}\n`);
    this.partial = "";
  }
}

/** The outputs of one command's executions, each prefixed `label | `, labels padded to one width. */
export class LiveOutput {
  private readonly outputs = new Map<string, ExecutionOutput>();

  constructor(labels: Map<string, string>, sink: LineSink) {
    const pad = Math.max(0, ...[...labels.values()].map((l) => l.length));
    for (const [id, label] of labels)
      this.outputs.set(id, new ExecutionOutput(`${label.padEnd(pad)} | `, sink));
  }

  /** The output of one execution. */
  of(executionId: string): ExecutionOutput {
    const output = this.outputs.get(executionId);
    if (!output) throw new Error(`unknown execution ${executionId}`);
    return output;
  }
}
