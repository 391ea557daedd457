// GET /health is public: it says the database is unreachable without the driver's message, which
// can name the database host, port or HTTP status (review L2); the detail goes to the log.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestApi } from "./harness";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /health with the database down", () => {
  it("answers 503 with a generic error and logs the driver's detail", async () => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
    const down = await createTestApi({ LIBSQL_URL: "http://127.0.0.1:9/secret-namespace-7f3a/" });
    const res = await down.fetch("/health", { auth: null });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text).data.database).toEqual({
      reachable: false,
      latency_ms: null,
      error: "Database unreachable",
    });
    expect(text).not.toMatch(/127\.0\.0\.1|secret-namespace|connection|fetch|HTTP/i);
    const line = logged.find((l) => l.includes("health check: database unreachable"));
    expect(line).toBeDefined();
    expect(line).toMatch(/"error"/);
  });
});
