import { base64DecodeText, base64EncodeText } from "../crypto/secrets";

/** What an agent's `ENROLLMENT_KEY` carries: the API origin to dial and the secret. */
export interface EnrollmentKeyBlob {
  server: string;
  key: string;
}

/** base64 JSON `{"server": …, "key": …}`, the form operators paste into `ENROLLMENT_KEY`. */
export function encodeKeyBlob(blob: EnrollmentKeyBlob): string {
  return base64EncodeText(JSON.stringify({ server: blob.server, key: blob.key }));
}

/** Decodes a key blob; returns null when it isn't one. */
export function decodeKeyBlob(text: string): EnrollmentKeyBlob | null {
  try {
    const parsed = JSON.parse(base64DecodeText(text.trim()));
    if (typeof parsed?.server === "string" && typeof parsed?.key === "string" && parsed.key.length > 0) {
      return { server: parsed.server, key: parsed.key };
    }
  } catch {
    // not base64 JSON
  }
  return null;
}
