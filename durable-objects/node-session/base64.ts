// Base64 for file chunks in JSON frames. A chunk is 256 KiB: a byte-at-a-time loop over
// `atob`/`btoa` strings costs milliseconds per chunk and a string copy of it in the object, while
// the runtime's own `Uint8Array.fromBase64` / `toBase64` (TC39, shipped in workerd's V8) decode in
// native code into one buffer. The loops stay as the fallback for a runtime without them.

type NativeBase64 = {
  fromBase64?: (text: string) => Uint8Array;
};

const native = Uint8Array as unknown as NativeBase64;

/** The bytes of a base64 text. */
export function decodeBase64(text: string): Uint8Array {
  if (native.fromBase64) return native.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The base64 text of some bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  const withNative = bytes as Uint8Array & { toBase64?: () => string };
  if (typeof withNative.toBase64 === "function") return withNative.toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
