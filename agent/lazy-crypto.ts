// What the agent's modules import as `node:crypto` in the bundle (scripts/build-agent.mjs):
// each function loads Node's crypto module on its first call. An ESM bundle hoists every import
// of a built-in to its top, so a `node:crypto` import in code that only an upload, a self-update
// or an SSH login runs would load crypto (~1.1 MB resident, docs/agent-footprint.md) at start-up.
// The idle path uses ./light-crypto instead. A name missing here fails the build.
import type * as Crypto from "node:crypto";
import { createRequire } from "node:module";

let loaded: typeof Crypto | undefined;
const crypto = (): typeof Crypto => {
  loaded ??= createRequire(import.meta.url)("node:crypto") as typeof Crypto;
  return loaded;
};

export const createHash: typeof Crypto.createHash = (...args) => crypto().createHash(...args);
export const randomBytes = ((...args: Parameters<typeof Crypto.randomBytes>) =>
  crypto().randomBytes(...args)) as typeof Crypto.randomBytes;
export const randomUUID: typeof Crypto.randomUUID = (...args) => crypto().randomUUID(...args);
export const scrypt = ((...args: Parameters<typeof Crypto.scrypt>) =>
  crypto().scrypt(...args)) as typeof Crypto.scrypt;
export const timingSafeEqual: typeof Crypto.timingSafeEqual = (...args) => crypto().timingSafeEqual(...args);
