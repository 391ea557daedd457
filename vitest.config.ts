import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export const TEST_API_KEY = "test-api-key-0123456789abcdef";
export const TEST_MASTER_KEY = "test-master-key-0123456789abcdef";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["test/unit/**/*.test.ts", "test/libsql-server/**/*.test.ts"],
          // Some spawn the bundled agent or build hundreds of rows; npm test runs them beside e2e.
          testTimeout: 20_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./workers/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                LIBSQL_URL: inject<string>("libsqlUrl"),
                API_KEY: TEST_API_KEY,
                MASTER_KEY: TEST_MASTER_KEY,
                ENCRYPTION_KEY: "test-encryption-key-0123456789abcdef",
                // Files share the limiters and most send everything from one "client"; the
                // rate-limit tests turn them on with their own settings and client addresses.
                RATE_LIMIT_ENROLL_PER_MINUTE: "0",
                RATE_LIMIT_PUBLIC_KEY_PER_MINUTE: "0",
                RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "0",
                RATE_LIMIT_SSH_PASSWORD_PER_MINUTE: "0",
                // Durable Objects read these bindings, not a test's overrides: short, so damping is testable.
                NODE_STATUS_MIN_INTERVAL_SECONDS: "1",
                STREAM_MAX_SUBSCRIBERS_PER_NODE: "3",
                STREAM_MAX_LIFETIME_SECONDS: "3",
                // Short, so a silent agent's 503 agent_timeout is testable; small, so a 413 is cheap.
                NODE_RPC_TIMEOUT_SECONDS: "2",
                FILE_TRANSFER_MAX_BYTES: "1048576",
              },
            },
          })),
        ],
        test: {
          name: "integration",
          isolate: false,
          include: ["test/integration/**/*.test.ts"],
          globalSetup: [
            "test/support/agent-build-setup.ts",
            "test/support/libsql-global-setup.ts",
            "test/support/webhook-receiver-setup.ts",
          ],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/support/agent-build-setup.ts", "test/support/shared-stack-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
