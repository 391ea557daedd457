import { StringDecoder } from "node:string_decoder";

/** What a command printed, as stored and reported: capped, with a visible marker when cut. */
export interface CapturedOutput {
  text: string;
  truncated: boolean;
  omittedBytes: number;
  totalBytes: number;
}

/**
 * Keeps a command's combined output within `limit` bytes: the first three quarters and
 * the last quarter survive (the end usually holds the error), and the cut is marked with
 * `[output truncated: N bytes omitted]` — output is never dropped silently.
 * @example const out = new OutputBuffer(1024 * 1024); out.push(chunk); out.finish().text
 */
export class OutputBuffer {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private omitted = 0;
  private total = 0;

  constructor(limit: number) {
    this.headLimit = Math.floor((limit * 3) / 4);
    this.tailLimit = limit - this.headLimit;
  }

  /** Appends a chunk in arrival order. */
  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(rest.length, this.headLimit - this.headBytes);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes > this.tailLimit) {
      const excess = this.tailBytes - this.tailLimit;
      const first = this.tail[0];
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.omitted += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.omitted += excess;
      }
    }
  }

  /** The stored text; call once, after the process has exited. */
  finish(): CapturedOutput {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    if (this.omitted === 0) {
      return {
        text: Buffer.concat([head, tail]).toString("utf8"),
        truncated: false,
        omittedBytes: 0,
        totalBytes: this.total,
      };
    }
    // Cut on character boundaries: drop a split UTF-8 sequence at either edge of the gap.
    const headText = new StringDecoder("utf8").write(head);
    let omitted = this.omitted + head.length - Buffer.byteLength(headText);
    let skip = 0;
    while (skip < tail.length && skip < 3 && (tail[skip] & 0xc0) === 0x80) skip++;
    tail = tail.subarray(skip);
    omitted += skip;
    return {
      text: `${headText}\n[output truncated: ${omitted} bytes omitted]\n${tail.toString("utf8")}`,
      truncated: true,
      omittedBytes: omitted,
      totalBytes: this.total,
    };
  }
}
