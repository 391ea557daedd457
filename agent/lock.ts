import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { removeFile, writeFileAtomic } from "./files";
import { isProcessAlive } from "./status";

/** Another agent already runs with this state dir; two would share one journal and node id. */
export class AlreadyRunning extends Error {}

async function looksLikeAgent(pid: number): Promise<boolean> {
  try {
    // After a reboot the recorded pid may belong to an unrelated process.
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).includes("outpost-agent");
  } catch {
    return isProcessAlive(pid);
  }
}

/**
 * Takes `<state>/agent.pid` for this process; a pid file left by a dead agent is taken over.
 * @throws AlreadyRunning when a live agent holds it
 * @example const lock = await acquireLock(stateDir); … await lock.release()
 */
export async function acquireLock(stateDir: string): Promise<{ release(): Promise<void> }> {
  const path = join(stateDir, "agent.pid");
  const release = async () => {
    const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (holder === process.pid) await removeFile(path);
  };
  try {
    const handle = await open(path, "wx", 0o644);
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return { release };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
  if (
    Number.isInteger(holder) &&
    holder > 0 &&
    holder !== process.pid &&
    isProcessAlive(holder) &&
    (await looksLikeAgent(holder))
  ) {
    throw new AlreadyRunning(`another outpost-agent (pid ${holder}) is already running with this state dir`);
  }
  await writeFileAtomic(path, `${process.pid}\n`, 0o644);
  return { release };
}
