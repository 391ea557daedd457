// Stand-ins for systemctl, journalctl, rc-service and rc-update, so agent/install.sh can be run
// into a throwaway ROOT and still take its systemd and OpenRC paths. They log every call and keep
// the service's state in a file; FAKE_INIT_CRASH=1 makes a started service fall over at once,
// FAKE_INIT_START_FAILS=1 makes starting it fail.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const SCRIPTS: Record<string, string> = {
  systemctl: `
case "$1" in
  is-active)
    state="$(cat "$FAKE_INIT_DIR/state" 2>/dev/null || echo inactive)"
    [ "$2" = --quiet ] || echo "$state"
    [ "$state" = active ]
    ;;
  enable|restart)
    [ "\${FAKE_INIT_START_FAILS:-0}" = 1 ] && { echo "Job for outpost-agent.service failed." >&2; exit 1; }
    if [ "\${FAKE_INIT_CRASH:-0}" = 1 ]; then echo activating >"$FAKE_INIT_DIR/state"; else echo active >"$FAKE_INIT_DIR/state"; fi
    ;;
  disable) echo inactive >"$FAKE_INIT_DIR/state" ;;
esac`,
  journalctl: `echo "outpost-agent[42]: enrolment failed: key refused"`,
  "rc-update": "exit 0",
  "rc-service": `
case "$2" in
  status) [ "$(cat "$FAKE_INIT_DIR/state" 2>/dev/null)" = active ] ;;
  start|restart)
    [ "\${FAKE_INIT_START_FAILS:-0}" = 1 ] && exit 1
    if [ "\${FAKE_INIT_CRASH:-0}" = 1 ]; then echo crashed >"$FAKE_INIT_DIR/state"; else echo active >"$FAKE_INIT_DIR/state"; fi
    ;;
  stop) echo stopped >"$FAKE_INIT_DIR/state" ;;
esac`,
};

/** A directory of fake init tools (put it first on PATH) and a way to read what they were asked. */
export async function fakeInitTools(dir: string) {
  await mkdir(dir, { recursive: true });
  for (const [name, body] of Object.entries(SCRIPTS)) {
    const file = join(dir, name);
    await writeFile(file, `#!/bin/sh\necho "${name} $*" >>"$FAKE_INIT_DIR/calls"\n${body}\n`);
    await chmod(file, 0o755);
  }
  return {
    /** Environment that puts the fakes first on PATH. */
    env: (extra: Record<string, string> = {}) => ({
      PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      FAKE_INIT_DIR: dir,
      OUTPOST_START_WAIT: "1",
      ...extra,
    }),
    /** Every call so far, one `tool args` per line. */
    calls: async () =>
      (await readFile(join(dir, "calls"), "utf8").catch(() => "")).trim().split("\n").filter(Boolean),
  };
}
