import pkg from "../package.json";

/** Outpost's version (package.json), reported by `/health`, the OpenAPI document and the agent. */
export const OUTPOST_VERSION: string = pkg.version;
