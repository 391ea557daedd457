/**
 * The agent's exit codes. systemd's unit (agent/install.sh) lists 2–6 in
 * RestartPreventExitStatus: restarting cannot fix a bad setting, a refused key, a
 * deleted node, a revoked token or a rejected registration; 1 (e.g. server unreachable while enrolling) is retried.
 */
export const EXIT = {
  ok: 0,
  error: 1,
  config: 2,
  enrollmentRefused: 3,
  nodeDeleted: 4,
  unauthorized: 5,
  registrationRejected: 6,
} as const;
