import { beforeAll, describe, expect, it } from "vitest";
import { grants } from "../../src/access/permissions";
import { listOperations } from "../../workers/openapi/registry";
import { as } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
const tokens = new Map<string, string>();
beforeAll(async () => {
  api = await createTestApi();
});

const SAMPLE_PARAMS: Record<string, string> = {
  name: "some-cluster",
  cluster_name: "some-cluster",
};
function concretePath(path: string): string {
  return path.replace(
    /\{(\w+)\}/g,
    (_, name) => SAMPLE_PARAMS[name] ?? "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  );
}

// One API token per scope set, minted with the API key.
async function tokenWith(scopes: string[]): Promise<string> {
  const id = scopes.join(",");
  const known = tokens.get(id);
  if (known) return known;
  const res = await as(api, undefined).post("/api/v1/api_tokens", { name: `scope ${id}`, scopes });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  tokens.set(id, res.body.data.token);
  return res.body.data.token;
}

function call(token: string, op: { method: string; path: string }) {
  return api.fetch(concretePath(op.path), {
    method: op.method.toUpperCase(),
    auth: token,
    headers: { "content-type": "application/json" },
    body: op.method === "get" || op.method === "delete" ? undefined : "{}",
  });
}

describe("route table", () => {
  const guarded = () => listOperations().filter((op) => !op.public);

  it("every non-public operation declares a permission, and the OpenAPI document shows it", async () => {
    const undeclared = guarded()
      .filter((op) => !op.permission)
      .map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(undeclared).toEqual([]);
    const doc = await (await api.fetch("/api/v1/openapi.json", { auth: null })).json<any>();
    for (const op of listOperations()) {
      const documented = doc.paths[op.path][op.method]["x-permission"];
      expect(documented, `${op.method} ${op.path}`).toBe(op.public ? undefined : op.permission);
    }
  });

  it("a principal without the permission gets 403 forbidden on every operation", async () => {
    for (const op of guarded()) {
      if (!op.permission || op.permission === "authenticated") continue;
      const other = grants(["events:read"], op.permission) ? ["metrics:read"] : ["events:read"];
      const res = await call(await tokenWith(other), op);
      const label = `${op.method.toUpperCase()} ${op.path} without ${op.permission}`;
      expect(res.status, label).toBe(403);
      const body = await res.json<any>();
      expect(body.error.code, label).toBe("forbidden");
    }
  });

  it("a principal holding exactly the permission passes the check on every operation", async () => {
    for (const op of guarded()) {
      if (!op.permission || op.permission === "authenticated") continue;
      const res = await call(await tokenWith([op.permission]), op);
      const label = `${op.method.toUpperCase()} ${op.path} with ${op.permission}`;
      expect(res.status, label).not.toBe(401);
      const text = await res.text();
      if (res.status === 403) {
        // A 403 past the permission check is the handler's own rule (e.g. scopes beyond the token's).
        expect(JSON.parse(text).error.details?.permission, label).toBeUndefined();
      }
    }
  });
});
