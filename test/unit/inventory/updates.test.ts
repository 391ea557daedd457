import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  parseApkVersion,
  parseAptSimulate,
  parseDnfCheckUpdate,
  parseDnfSecurityList,
  parsePacmanUpdates,
} from "../../../agent/inventory/parse/updates";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name), "utf8");

describe("pending updates", () => {
  it("reads apt-get -s output recorded on Debian 12, flagging -security origins", () => {
    const updates = parseAptSimulate(fixture("apt-get-s-debian-12.txt"));
    expect(updates.length).toBeGreaterThan(5);
    // Conf lines are not updates: one entry per Inst line.
    const instLines = fixture("apt-get-s-debian-12.txt")
      .split("\n")
      .filter((l) => l.startsWith("Inst "));
    expect(updates).toHaveLength(instLines.length);
    expect(updates.find((u) => u.name === "bash")).toEqual({
      name: "bash",
      current_version: "5.2.15-2+b8",
      candidate_version: "5.2.15-2+b13",
      security: false,
      source: "Debian:12.15/oldstable",
    });
    expect(updates.find((u) => u.name === "libgcrypt20")).toMatchObject({
      candidate_version: "1.10.1-3+deb12u1",
      security: true,
    });
  });

  it("recognises an Ubuntu security pocket", () => {
    const [u] = parseAptSimulate(
      "Inst openssl [3.0.2-0ubuntu1.15] (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])\n",
    );
    expect(u).toMatchObject({ name: "openssl", security: true, current_version: "3.0.2-0ubuntu1.15" });
    const [fresh] = parseAptSimulate("Inst newpkg (1.0-1 Ubuntu:22.04/jammy-updates [amd64])\n");
    expect(fresh).toMatchObject({ name: "newpkg", current_version: null, security: false });
  });

  it("reads dnf check-update with its security list, stopping at obsoletes", () => {
    const security = parseDnfSecurityList(fixture("dnf-updateinfo-security-rhel-9.txt"));
    expect([...security].sort()).toEqual(["kernel-core", "openssl"]);
    const updates = parseDnfCheckUpdate(fixture("dnf-check-update-rhel-9.txt"), security);
    expect(updates).toEqual([
      {
        name: "openssl",
        current_version: null,
        candidate_version: "1:3.0.7-28.el9_4",
        security: true,
        source: "rhel-9-for-x86_64-baseos-rpms",
      },
      {
        name: "kernel-core",
        current_version: null,
        candidate_version: "5.14.0-427.16.1.el9_4",
        security: true,
        source: "rhel-9-for-x86_64-baseos-rpms",
      },
      {
        name: "tzdata",
        current_version: null,
        candidate_version: "2024a-2.el9",
        security: false,
        source: "rhel-9-for-x86_64-baseos-rpms",
      },
    ]);
  });

  it("reads apk version -l '<' and checkupdates", () => {
    expect(parseApkVersion(fixture("apk-version-alpine-3.19.txt"))).toEqual([
      {
        name: "busybox",
        current_version: "1.36.1-r15",
        candidate_version: "1.36.1-r19",
        security: false,
        source: null,
      },
      {
        name: "libssl3",
        current_version: "3.1.4-r5",
        candidate_version: "3.1.4-r6",
        security: false,
        source: null,
      },
    ]);
    expect(
      parsePacmanUpdates(fixture("checkupdates-arch.txt")).map((u) => [u.name, u.candidate_version]),
    ).toEqual([
      ["bash", "5.2.032-1"],
      ["openssl", "1:3.3.1-1"],
    ]);
  });
});
