// cli/api-types.ts is generated from the OpenAPI document; a route change without `npm run
// cli:types` would leave the CLI compiling against an API that no longer exists.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { API_TYPES_FILE, generateApiTypes } from "../../../scripts/cli-types.mjs";

describe("cli/api-types.ts", () => {
  it("matches the current OpenAPI document (run `npm run cli:types` when this fails)", async () => {
    const committed = await readFile(API_TYPES_FILE, "utf8");
    const fresh = await generateApiTypes();
    // Not toBe: a 700 KB diff is no help; the message says what to run.
    expect(committed === fresh, "cli/api-types.ts is stale: run `npm run cli:types` and commit it").toBe(
      true,
    );
  }, 60_000);
});
