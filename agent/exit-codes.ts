/**
 * The agent's exit codes. systemd's unit (agent/install.sh) lists 2–5 in
 * RestartPreventExitStatus: restarting cannot fix a bad setting, a refused key, a
 * deleted node or a revoked token; 1 (e.g. server unreachable while enrolling) is retried.
 */
export const EXIT = {
  ok: 0,
  error: 1,
  config: 2,
  enrollmentRefused: 3,
  nodeDeleted: 4,
  unauthorized: 5,
} as const;
