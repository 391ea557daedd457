import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

// Stand-in child engines for orchestrated-reboot tests (C10): a fake `lxc` and `docker` whose
// instances' states live in files, named to the agent through OUTPOST_LXC / OUTPOST_DOCKER.
// One script plays both engines: `$0` says which. State: one file per instance holding its status,
// under STATE (written in: the agent runs its collectors with a bare environment).
export const FAKE_ENGINE = `#!/bin/sh
engine=$(basename "$0")
dir="STATE/$engine"
log="STATE/log"
now() { date +%s%3N; }
case "$engine $1" in
  "lxc list")
    sep=""; printf '['
    for f in "$dir"/*; do n=$(basename "$f"); s=$(cat "$f")
      case "$s" in running) S=Running;; *) S=Stopped;; esac
      printf '%s{"name":"%s","status":"%s","config":{"boot.autostart":"true"}}' "$sep" "$n" "$S"; sep=","
    done; printf ']\\n';;
  "lxc info")
    [ -f "$dir/$2" ] || { echo "Error: not found" >&2; exit 1; }
    echo "Name: $2"; echo "Status: $(cat "$dir/$2" | tr a-z A-Z)";;
  "lxc stop")
    n="$4"; sleep 1; echo stopped > "$dir/$n"; echo "$(now) stop lxc $n" >> "$log";;
  "lxc start")
    [ "$(cat "$dir/$2")" = running ] && { echo "Error: already running" >&2; exit 1; }
    sleep 1; echo running > "$dir/$2"; echo "$(now) start lxc $2" >> "$log";;
  "docker ps")
    for f in "$dir"/*; do n=$(basename "$f"); s=$(cat "$f"); [ "$s" = stopped ] && s=exited
      printf '%s\\t%s\\n' "$n" "$s"; done;;
  "docker inspect")
    n="$4"; [ -f "$dir/$n" ] || exit 1
    s=$(cat "$dir/$n"); [ "$s" = stopped ] && s=exited; echo "$s";;
  "docker stop")
    n="$4"; echo stopped > "$dir/$n"; echo "$(now) stop docker $n" >> "$log";;
  "docker start")
    [ "$(cat "$dir/$2")" = running ] && { echo "already running" >&2; exit 1; }
    echo running > "$dir/$2"; echo "$(now) start docker $2" >> "$log";;
  *) echo "fake $engine: unexpected $*" >&2; exit 2;;
esac
`;

/** The agent's environment naming the fake engines under `workDir/bin`, the other engines absent
 * whatever this machine has installed, and a boot id read from `workDir/boot-id`. */
export function fakeEngineEnv(workDir: string): Record<string, string> {
  return {
    OUTPOST_LXC: join(workDir, "bin", "lxc"),
    OUTPOST_DOCKER: join(workDir, "bin", "docker"),
    OUTPOST_INCUS: "/nonexistent/incus",
    OUTPOST_PODMAN: "/nonexistent/podman",
    OUTPOST_VIRSH: "/nonexistent/virsh",
    OUTPOST_MACHINECTL: "/nonexistent/machinectl",
    OUTPOST_SYSTEMD_RUN: join(workDir, "bin", "systemd-run"),
    OUTPOST_BOOT_ID_FILE: join(workDir, "boot-id"),
  };
}

/** Sets a fake instance's state (its engine's file under `workDir/engines`). */
export const setChild = (workDir: string, engine: string, name: string, status: string) =>
  writeFile(join(workDir, "engines", engine, name), `${status}\n`);

/** Reads a fake instance's state. */
export const childStatus = async (workDir: string, engine: string, name: string) =>
  (await readFile(join(workDir, "engines", engine, name), "utf8")).trim();
