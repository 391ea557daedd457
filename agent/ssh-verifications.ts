// `authorized-keys` and `verify-password` run as short-lived processes (started by sshd / PAM), so
// they cannot touch the running agent's counters. Each appends one byte to
// <state>/ssh-verifications (O_APPEND: concurrent writers never lose one another's byte); the
// agent reports the file's growth since it started as `ssh_verifications`.
import { statSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";

/** The counter file inside the state dir. */
export function sshVerificationsPath(stateDir: string): string {
  return join(stateDir, "ssh-verifications");
}

/** Counts one SSH verification; never throws (a full disk must not fail a login). */
export async function countSshVerification(stateDir: string): Promise<void> {
  await appendFile(sshVerificationsPath(stateDir), "+", { mode: 0o600 }).catch(() => {});
}

/** Verifications counted so far (the file's size); 0 when there is no file. */
export function sshVerificationsSoFar(stateDir: string): number {
  try {
    return statSync(sshVerificationsPath(stateDir)).size;
  } catch {
    return 0;
  }
}
