/**
 * Frees an ArrayBuffer's memory now instead of at the isolate's next garbage collection: detaching
 * it (`transfer(0)`) drops its backing store. A WebSocket message or a stream chunk of 512 KiB that
 * only waits for the collector still counts in the process's memory, and the collector runs seldom
 * when little JavaScript is allocated: a 50 MiB transfer piled up ~50 MiB of such garbage.
 * Only for a buffer nobody reads any more (every view of it becomes empty).
 */
export function releaseBuffer(buffer: ArrayBufferLike): void {
  const transfer = (buffer as { transfer?: (length: number) => ArrayBuffer }).transfer;
  if (typeof transfer !== "function" || (buffer as { detached?: boolean }).detached) return;
  try {
    transfer.call(buffer, 0);
  } catch {
    // not detachable (a WebAssembly memory, a buffer workerd pinned): the collector frees it
  }
}
