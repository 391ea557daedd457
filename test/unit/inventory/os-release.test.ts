import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseOsRelease } from "../../../agent/inventory/parse/os-release";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name), "utf8");

describe("/etc/os-release", () => {
  it.each([
    ["os-release-debian-12", "Debian GNU/Linux 12 (bookworm)", "debian", "12", null],
    ["os-release-ubuntu-22.04", "Ubuntu 22.04.4 LTS", "ubuntu", "22.04", "debian"],
    ["os-release-rhel-9", "Red Hat Enterprise Linux 9.4 (Plow)", "rhel", "9.4", "fedora"],
    ["os-release-fedora-39", "Fedora Linux 39 (Server Edition)", "fedora", "39", null],
    ["os-release-alpine-3.19", "Alpine Linux v3.19", "alpine", "3.19.1", null],
    ["os-release-arch", "Arch Linux", "arch", null, null],
  ])("%s", (file, pretty, id, versionId, idLike) => {
    expect(parseOsRelease(fixture(file))).toMatchObject({
      pretty_name: pretty,
      id,
      version_id: versionId,
      id_like: idLike,
    });
  });

  it("falls back to NAME VERSION without PRETTY_NAME, and unquotes single quotes and escapes", () => {
    expect(parseOsRelease(fixture("os-release-minimal"))).toEqual({
      id: "edgeos",
      id_like: null,
      name: "Edge OS",
      version_id: null,
      pretty_name: 'Edge OS 2.1 "beta"',
    });
  });

  it("gives nulls for an empty file", () => {
    expect(parseOsRelease("").pretty_name).toBeNull();
  });
});
