// `outpost-agent status` by a user who cannot read the state directory (0700 root, as installed):
// one line saying to use sudo, exit 1, no stack trace.
import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { buildBundle, node20, tempDir, writeIdentity } from "./helpers";

function run(file: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      file,
      args,
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("outpost-agent status without permission", () => {
  it("says to use sudo and exits 1 instead of printing a stack trace", async () => {
    const bundle = await buildBundle();
    const stateDir = await tempDir("outpost-status-");
    await writeIdentity(stateDir, "https://outpost.example.com");
    const env = { OUTPOST_STATE_DIR: stateDir };
    let result: Awaited<ReturnType<typeof run>>;
    if (process.getuid?.() === 0) {
      // Root reads everything: run as nobody, with the bundle readable and the state dir root's 0700.
      await chmod(dirname(bundle), 0o755);
      await chmod(bundle, 0o644);
      await chmod(stateDir, 0o700);
      result = await run(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", node20(), bundle, "status"],
        env,
      );
    } else {
      await chmod(stateDir, 0o000);
      result = await run(node20(), [bundle, "status"], env);
      await chmod(stateDir, 0o700);
    }
    expect(result.stderr).toBe(
      `outpost-agent status: permission denied reading ${stateDir}; run it as root: sudo outpost-agent status\n`,
    );
    expect(result.stdout).toBe("");
    expect(result.code).toBe(1);
  }, 60_000);
});
