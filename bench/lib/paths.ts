import { fileURLToPath } from "node:url";

/** Repository root, bench/ and the build dir of the bundled benchmark code. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BENCH_DIR = `${ROOT}bench`;
export const BUILD_DIR = `${BENCH_DIR}/dist`;
export const RESULTS_DIR = `${BENCH_DIR}/results`;
