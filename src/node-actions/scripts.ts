// The shell text of a typed node action (C9, C23). Built here from validated values only, every
// value single-quoted, so an action is a command like any other (executions, the agent's journal,
// events, cancel and expiry) without letting a caller's text reach a shell. The tools run are
// `systemctl`, `systemd-run`, `shutdown`, `wall` and `docker` unless the agent's environment names
// stand-ins (OUTPOST_SYSTEMCTL, OUTPOST_SYSTEMD_RUN, OUTPOST_SHUTDOWN, OUTPOST_WALL, OUTPOST_DOCKER),
// which is how tests run them without touching the machine.

/** A systemd unit name an action may name (no shell, no options, no paths). */
export const SERVICE_NAME = /^[A-Za-z0-9@._:-]+\.service$/;
/** A container id or name as Docker accepts them. */
export const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const POWER_ACTIONS = ["reboot", "shutdown"] as const;
export const SERVICE_ACTIONS = ["start", "stop", "restart", "reload", "enable", "disable"] as const;
export const CONTAINER_ACTIONS = ["start", "stop", "restart", "pause", "unpause"] as const;

/**
 * The shortest delay a power action is scheduled with: the agent must report its result before
 * the machine goes down.
 */
export const MIN_POWER_DELAY_SECONDS = 5;

/** `value` as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const tool = (env: string, name: string) => `"\${${env}:-${name}}"`;

/**
 * Schedules a reboot or power-off outside the agent's process, so an agent restart can't lose it:
 * a transient systemd timer (`systemd-run --on-active`), else `shutdown` with the delay rounded up
 * to whole minutes. `force` skips stopping units (`--force` once, never twice). Prints the unit to
 * cancel it by.
 */
export function powerScript(input: {
  id: string;
  action: (typeof POWER_ACTIONS)[number];
  delaySeconds: number;
  force: boolean;
  message?: string;
}): string {
  const delay = Math.max(MIN_POWER_DELAY_SECONDS, input.delaySeconds);
  const unit = `outpost-power-${input.id}`;
  const verb = input.action === "reboot" ? "reboot" : "poweroff";
  const minutes = Math.ceil(delay / 60);
  const lines = [
    "set -e",
    input.message ? `${tool("OUTPOST_WALL", "wall")} ${shellQuote(input.message)} 2>/dev/null || true` : "",
    `if command -v ${tool("OUTPOST_SYSTEMD_RUN", "systemd-run")} >/dev/null 2>&1; then`,
    `  ${tool("OUTPOST_SYSTEMD_RUN", "systemd-run")} --on-active=${delay}s --unit=${unit} ${tool("OUTPOST_SYSTEMCTL", "systemctl")} ${verb}${input.force ? " --force" : ""}`,
    `  echo ${shellQuote(`${input.action} scheduled in ${delay}s as ${unit}.timer`)}`,
    "else",
    `  ${tool("OUTPOST_SHUTDOWN", "shutdown")} ${input.action === "reboot" ? "-r" : "-P"} +${minutes}${input.message ? ` ${shellQuote(input.message)}` : ""}`,
    `  echo ${shellQuote(`${input.action} scheduled in ${minutes} min by shutdown`)}`,
    "fi",
  ];
  return lines.filter(Boolean).join("\n");
}

/** `systemctl <action> -- <unit>`: the unit validated by `SERVICE_NAME` and quoted anyway. */
export function serviceScript(name: string, action: (typeof SERVICE_ACTIONS)[number]): string {
  if (!SERVICE_NAME.test(name)) throw new Error(`not a service unit name: ${name}`);
  return `${tool("OUTPOST_SYSTEMCTL", "systemctl")} ${action} -- ${shellQuote(name)}`;
}

/** `docker <action> [-t N] -- <container>`: the id validated by `CONTAINER_ID` and quoted anyway. */
export function containerScript(
  id: string,
  action: (typeof CONTAINER_ACTIONS)[number],
  timeoutSeconds?: number,
): string {
  if (!CONTAINER_ID.test(id)) throw new Error(`not a container id: ${id}`);
  const wait =
    timeoutSeconds !== undefined && (action === "stop" || action === "restart")
      ? ` -t ${timeoutSeconds}`
      : "";
  return `${tool("OUTPOST_DOCKER", "docker")} ${action}${wait} -- ${shellQuote(id)}`;
}

/** Takes back a scheduled power action: stops its timer, else cancels a pending `shutdown`. */
export function cancelPowerScript(unit: string): string {
  if (!/^outpost-power-[0-9a-f-]+$/.test(unit)) throw new Error(`not a power action unit: ${unit}`);
  return [
    `if ${tool("OUTPOST_SYSTEMCTL", "systemctl")} stop ${unit}.timer 2>/dev/null; then echo ${shellQuote(`${unit}.timer stopped`)}`,
    `else ${tool("OUTPOST_SHUTDOWN", "shutdown")} -c && echo 'pending shutdown cancelled'; fi`,
  ].join("\n");
}
