// The SSH commands' names and help, apart from their code (./ssh-commands.ts): main() needs
// them for every invocation, the code only when sshd or PAM runs one.

/** The commands sshd and PAM run. */
export const SSH_COMMANDS = ["authorized-keys", "verify-password"] as const;
/** One of SSH_COMMANDS. */
export type SshCommand = (typeof SSH_COMMANDS)[number];

/** The SSH part of `outpost-agent --help`. */
export const SSH_USAGE = `SSH access (run by sshd and PAM, not by hand):
  authorized-keys USER   print USER's public keys, one per line (sshd AuthorizedKeysCommand)
  verify-password        password on stdin, user in PAM_USER; exit 0 if valid (pam_exec expose_authtok)
  Both take --state-dir DIR [OUTPOST_STATE_DIR]. When the server is unreachable they answer from
  a cache of the last successful lookup, for at most 10 minutes.`;
