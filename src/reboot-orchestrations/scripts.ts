import { shellQuote } from "../node-actions/scripts";
import { CHILD_ENGINE_TOOLS } from "../protocol/child-engines";
import { CHILD_NAME, CHILD_TYPES, type ChildType } from "../protocol/inventory-sections";

// The shell text of an orchestrated reboot's two child steps (C10): stop the running children,
// later start them again. Built from validated names only (CHILD_NAME, always quoted), through each
// engine's CLI or the stand-in its environment variable names (`OUTPOST_LXC`…), so the steps are
// ordinary typed commands: journalled by the agent, never run twice. Each child's outcome is one
// line `outpost-child <index> <outcome> [detail]`, read back by `parseChildLines`.

/** One child a step acts on. */
export interface StepChild {
  child_type: ChildType;
  child_name: string;
}

const t = (type: ChildType) => `"\${${CHILD_ENGINE_TOOLS[type].env}:-${CHILD_ENGINE_TOOLS[type].tool}}"`;

// Per engine: status (running | stopped | missing), graceful stop, hard stop, start.
function engineFunctions(type: ChildType): string {
  const T = t(type);
  const lower = "tr 'A-Z' 'a-z'";
  const norm = `case "$s" in running) echo running;; '') echo missing;; *) echo stopped;; esac`;
  switch (type) {
    case "lxd":
    case "incus":
      return [
        `st_${type}() { s=$(${T} info "$1" 2>/dev/null | sed -n 's/^Status: *//p' | ${lower}); ${norm}; }`,
        `down_${type}() { ${T} stop --timeout "$2" "$1"; }`,
        `kill_${type}() { ${T} stop --force "$1"; }`,
        `up_${type}() { ${T} start "$1"; }`,
      ].join("\n");
    case "docker":
    case "podman":
      return [
        `st_${type}() { s=$(${T} inspect -f '{{.State.Status}}' "$1" 2>/dev/null | ${lower}); ${norm}; }`,
        `down_${type}() { ${T} stop -t "$2" "$1"; }`,
        `kill_${type}() { ${T} kill "$1"; }`,
        `up_${type}() { ${T} start "$1"; }`,
      ].join("\n");
    case "libvirt":
      return [
        `st_${type}() { s=$(${T} domstate "$1" 2>/dev/null | head -n 1 | ${lower}); ${norm}; }`,
        `down_${type}() { ${T} shutdown "$1"; }`,
        `kill_${type}() { ${T} destroy "$1"; }`,
        `up_${type}() { ${T} start "$1"; }`,
      ].join("\n");
    case "nspawn":
      return [
        `st_${type}() { s=$(${T} show -p State --value "$1" 2>/dev/null | ${lower}); if [ -z "$s" ] && ${T} show-image "$1" >/dev/null 2>&1; then s=stopped; fi; ${norm}; }`,
        `down_${type}() { ${T} poweroff "$1"; }`,
        `kill_${type}() { ${T} terminate "$1"; }`,
        `up_${type}() { ${T} start "$1"; }`,
      ].join("\n");
  }
}

function prelude(children: StepChild[]): string[] {
  for (const c of children)
    if (!CHILD_NAME.test(c.child_name) || !CHILD_TYPES.includes(c.child_type))
      throw new Error(`not a child this step can name: ${c.child_type} ${c.child_name}`);
  const types = [...new Set(children.map((c) => c.child_type))];
  return [
    "one_line() { tr '\\n' ' ' | cut -c1-300; }",
    // Polls until the child is no longer running, for at most $3 seconds.
    'wait_down() { i=0; while [ "$(st_$1 "$2")" = running ]; do [ "$i" -ge "$3" ] && return 1; sleep 1; i=$((i+1)); done; return 0; }',
    ...types.map(engineFunctions),
  ];
}

/**
 * Stops every child at once, each given `timeoutSeconds` to shut down cleanly; with `force`, one
 * still running is then killed. A child not running any more is reported `not_running` (it is not
 * started again later). Exits 1 when any child could not be stopped.
 */
export function stopChildrenScript(children: StepChild[], timeoutSeconds: number, force: boolean): string {
  const lines = [
    ...prelude(children),
    `stop_child() {
  s=$(st_$1 "$3")
  if [ "$s" != running ]; then echo "outpost-child $2 not_running $s"; return 0; fi
  out=$(down_$1 "$3" ${timeoutSeconds} 2>&1)
  if wait_down "$1" "$3" ${timeoutSeconds}; then echo "outpost-child $2 stopped"; return 0; fi
  if [ ${force ? 1 : 0} = 1 ]; then
    kill_$1 "$3" >/dev/null 2>&1
    if wait_down "$1" "$3" 10; then echo "outpost-child $2 stopped forced after ${timeoutSeconds}s"; return 0; fi
  fi
  echo "outpost-child $2 failed still running after ${timeoutSeconds}s: $(printf '%s' "$out" | one_line)"
  return 1
}`,
    'pids=""',
    ...children.map(
      (c, i) => `stop_child ${c.child_type} ${i} ${shellQuote(c.child_name)} & pids="$pids $!"`,
    ),
    "rc=0",
    'for p in $pids; do wait "$p" || rc=1; done',
    "exit $rc",
  ];
  return lines.join("\n");
}

/**
 * Starts each child again, one after another in snapshot order. One the engine already started
 * (autostart) is left alone (`already_running`); one that no longer exists is `missing`; a failure
 * is recorded for that child and the others still start. Exits 0: outcomes are per child.
 */
export function startChildrenScript(children: StepChild[]): string {
  const lines = [
    ...prelude(children),
    `start_child() {
  s=$(st_$1 "$3")
  case "$s" in running) echo "outpost-child $2 already_running"; return 0;; missing) echo "outpost-child $2 missing"; return 0;; esac
  if out=$(up_$1 "$3" 2>&1); then echo "outpost-child $2 running"; else echo "outpost-child $2 failed $(printf '%s' "$out" | one_line)"; fi
}`,
    ...children.map((c, i) => `start_child ${c.child_type} ${i} ${shellQuote(c.child_name)}`),
    "exit 0",
  ];
  return lines.join("\n");
}

/** Each child's outcome line of a step's output, by index: `{outcome, detail}`. */
export function parseChildLines(output: string | null): Map<number, { outcome: string; detail: string }> {
  const out = new Map<number, { outcome: string; detail: string }>();
  for (const line of (output ?? "").split("\n")) {
    const m = /^outpost-child (\d+) (\S+) ?(.*)$/.exec(line);
    if (m) out.set(Number(m[1]), { outcome: m[2] ?? "", detail: (m[3] ?? "").trim() });
  }
  return out;
}
