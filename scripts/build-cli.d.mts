/** dist/cli/outpost.mjs, absolute. */
export const CLI_BUNDLE: string;
/** Whether the bundle exists and is newer than every input. */
export function isFresh(): Promise<boolean>;
/** Builds dist/cli/outpost.mjs and answers its path. */
export function buildCli(): Promise<string>;
