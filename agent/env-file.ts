import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./files";

/**
 * Removes the `ENROLLMENT_KEY=` line from the installer's environment file once the node is
 * enrolled (review H1): a multi-use key left on disk lets anyone who reads it enrol machines.
 * Other lines stay; a missing file is fine. Returns whether a key line was removed.
 * @example await forgetEnrollmentKey("/etc/outpost-agent/env")
 */
export async function forgetEnrollmentKey(path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  const lines = text.split("\n");
  const kept = lines.filter((line) => !/^\s*(export\s+)?ENROLLMENT_KEY=/.test(line));
  if (kept.length === lines.length) return false;
  await writeFileAtomic(path, kept.join("\n"), 0o600);
  return true;
}
