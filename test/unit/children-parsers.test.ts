import { describe, expect, it } from "vitest";
import {
  parseDockerPs,
  parseLxdList,
  parseMachinectl,
  parsePodmanPs,
  parseVirshList,
} from "../../agent/inventory/parse/children";
import {
  parseChildLines,
  startChildrenScript,
  stopChildrenScript,
} from "../../src/reboot-orchestrations/scripts";

describe("child engine listings", () => {
  it("reads LXD/Incus JSON with status and boot.autostart", () => {
    const text = JSON.stringify([
      { name: "web", status: "Running", config: { "boot.autostart": "true" } },
      { name: "old", status: "Stopped", config: {} },
      { name: "frozen", status: "Frozen" },
    ]);
    expect(parseLxdList("incus", text)).toEqual([
      { id: "incus:web", child_name: "web", child_type: "incus", status: "running", autostart: true },
      { id: "incus:old", child_name: "old", child_type: "incus", status: "stopped", autostart: null },
      { id: "incus:frozen", child_name: "frozen", child_type: "incus", status: "paused", autostart: null },
    ]);
    expect(parseLxdList("lxd", "not json")).toEqual([]);
  });

  it("reads docker ps lines, podman JSON, virsh tables and machinectl listings", () => {
    expect(parseDockerPs("docker", "api\trunning\nold\texited\n").map((c) => [c.id, c.status])).toEqual([
      ["docker:api", "running"],
      ["docker:old", "stopped"],
    ]);
    expect(
      parsePodmanPs(
        JSON.stringify([
          { Names: ["p1"], State: "running" },
          { Names: ["p2"], State: "paused" },
        ]),
      ).map((c) => [c.id, c.status]),
    ).toEqual([
      ["podman:p1", "running"],
      ["podman:p2", "paused"],
    ]);
    const virsh =
      " Id   Name      State\n------------------------------\n 1    vm1       running\n -    vm2       shut off\n";
    expect(parseVirshList(virsh).map((c) => [c.id, c.status])).toEqual([
      ["libvirt:vm1", "running"],
      ["libvirt:vm2", "stopped"],
    ]);
    const images = "box1 directory no 1.2G ...\nbox2 raw no 2G ...\n.host directory no\n";
    const running = "box1 container systemd-nspawn debian 12 10.0.0.2\n";
    expect(parseMachinectl(images, running).map((c) => [c.id, c.status])).toEqual([
      ["nspawn:box1", "running"],
      ["nspawn:box2", "stopped"],
    ]);
  });
});

describe("orchestration step scripts", () => {
  it("quote every name and refuse one an engine could take for an option", () => {
    const script = stopChildrenScript([{ child_type: "lxd", child_name: "web.1" }], 30, true);
    expect(script).toContain("stop_child lxd 0 'web.1' &");
    expect(script).toContain(`"\${OUTPOST_LXC:-lxc}" stop --timeout "$2" "$1"`);
    expect(() => startChildrenScript([{ child_type: "docker", child_name: "-rm" }])).toThrow(/not a child/);
    expect(() => startChildrenScript([{ child_type: "docker", child_name: "a;b" }])).toThrow(/not a child/);
  });

  it("read each child's outcome line by index", () => {
    const lines = parseChildLines(
      "noise\noutpost-child 0 stopped\noutpost-child 1 failed still running: busy\n",
    );
    expect(lines.get(0)).toEqual({ outcome: "stopped", detail: "" });
    expect(lines.get(1)).toEqual({ outcome: "failed", detail: "still running: busy" });
    expect(lines.size).toBe(2);
  });
});
