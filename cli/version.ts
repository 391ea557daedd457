import { OUTPOST_VERSION } from "../src/version";

/** The CLI ships with the server it was built from. */
export const CLI_VERSION = OUTPOST_VERSION;
