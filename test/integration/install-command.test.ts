// POST /api/v1/enrollment_keys/{id}/install_command: the line an operator pastes on a host.
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({ PUBLIC_API_URL: "https://outpost.example.com" });
  await api.post("/api/v1/clusters", { name: "installcmd" });
});

describe("POST /api/v1/enrollment_keys/{id}/install_command", () => {
  it("pipes the served install.sh to sh with the key in the environment, not in the URL", async () => {
    const key = (await api.post("/api/v1/clusters/installcmd/enrollment_keys", {})).body.data;
    const res = await api.post(`/api/v1/enrollment_keys/${key.id}/install_command`, undefined);
    expect(res.status).toBe(200);
    const { command } = res.body.data;
    expect(command).toBe(
      `curl -fsSL 'https://outpost.example.com/install.sh' | sudo ENROLLMENT_KEY='${key.key}' sh`,
    );
    const url = command.match(/'(https:[^']*)'/)?.[1];
    expect(url).not.toContain(key.key);
  });

  it("is a 404 for an unknown key", async () => {
    const res = await api.post(
      "/api/v1/enrollment_keys/00000000-0000-4000-8000-00000000dead/install_command",
      undefined,
    );
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
