// The dev runner killed outright (SIGKILL: no handler runs) must not leave its stack behind: each child
// runs under scripts/dev/supervise.mjs, which stops its process group when the runner's pipe closes.
import { afterAll, expect, it } from "vitest";
import { portIsFree, type Stack, stackProcesses, startStack } from "../support/stack";

let stack: Stack | undefined;
let leftovers: string[] = [];

afterAll(async () => {
  // Whatever the assertions said, leave nothing running.
  for (const line of leftovers) {
    try {
      process.kill(Number(line.split(" ")[0]), "SIGKILL");
    } catch {
      // gone
    }
  }
  await stack?.stop();
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

it("SIGKILL to the runner: libSQL server, wrangler and workerd exit, and their ports are freed", async () => {
  stack = await startStack();
  const libsqlPort = Number(stack.output().match(/Database\s+http:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
  expect(libsqlPort).toBeGreaterThan(0);
  const before = await stackProcesses(stack.dataDir);
  for (const name of ["libsql-server", "wrangler", "workerd"]) {
    expect(
      before.some((p) => p.includes(name)),
      `${name} in ${before.join("\n")}`,
    ).toBe(true);
  }

  process.kill(stack.pid, "SIGKILL");

  const dataDir = stack.dataDir;
  const gone = await until(async () => (await stackProcesses(dataDir)).length === 0, 15_000);
  leftovers = await stackProcesses(dataDir);
  expect(gone, `still running:\n${leftovers.join("\n")}`).toBe(true);
  expect(await portIsFree(stack.port)).toBe(true);
  expect(await portIsFree(libsqlPort)).toBe(true);
});
