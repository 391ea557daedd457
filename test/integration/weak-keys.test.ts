// The Worker refuses to serve with an API_KEY, MASTER_KEY or ENCRYPTION_KEY shorter than 24
// characters (review L9): every request answers 500 naming the setting (never its value), and the
// problem is logged as a bad environment.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestApi } from "./harness";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("short keys", () => {
  it.each(["API_KEY", "MASTER_KEY", "ENCRYPTION_KEY"])(
    "%s of 23 characters stops the Worker",
    async (name) => {
      const logged: string[] = [];
      vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
      const value = "k".repeat(23);
      const api = await createTestApi({ [name]: value });
      for (const path of ["/health", "/api/v1/clusters"]) {
        const res = await api.fetch(path, { auth: value });
        expect(res.status, path).toBe(500);
        const text = await res.text();
        expect(JSON.parse(text).error).toMatchObject({
          code: "internal_error",
          message: expect.stringMatching(
            new RegExp(`^Server misconfigured: ${name} must be at least 24 characters`),
          ),
        });
        expect(text).not.toContain(value);
      }
      expect(logged.some((line) => line.includes("bad environment") && line.includes(name))).toBe(true);
    },
  );

  it("accepts keys of 24 characters", async () => {
    const api = await createTestApi({ API_KEY: "a".repeat(24), ENCRYPTION_KEY: "e".repeat(24) });
    expect((await api.fetch("/api/v1/clusters", { auth: "a".repeat(24) })).status).toBe(200);
  });
});
