import { runCommand, Unavailable } from "../budget";
import { parseSystemctl } from "../parse/services";

/** `services`: systemd services with load/active/sub state and enablement. */
export async function collectServices() {
  const units = await runCommand(
    "systemctl",
    ["list-units", "--type=service", "--all", "--no-legend", "--plain", "--no-pager"],
    { timeoutMs: 10_000 },
  );
  // systemctl exists in many containers without systemd running (exit 1, "System has not been booted with systemd").
  if (units?.code !== 0) throw new Unavailable("systemd is not running on this host");
  const files = await runCommand(
    "systemctl",
    ["list-unit-files", "--type=service", "--no-legend", "--no-pager"],
    {
      timeoutMs: 10_000,
    },
  );
  return { manager: "systemd", services: parseSystemctl(units.stdout, files?.stdout ?? "") };
}
