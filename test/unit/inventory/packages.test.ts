import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  parseApkInstalled,
  parseDpkgStatus,
  parsePacmanDesc,
  parseRpmQuery,
} from "../../../agent/inventory/parse/packages";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name), "utf8");

describe("dpkg status", () => {
  it("reads the Debian 12 status file recorded on the test machine", () => {
    const packages = parseDpkgStatus(fixture("debian-12-dpkg-status"));
    expect(packages).toHaveLength(12);
    const bash = packages.find((p) => p.name === "bash");
    expect(bash).toEqual({
      name: "bash",
      version: "5.2.15-2+b8",
      architecture: "amd64",
      status: "installed",
      description: "GNU Bourne Again SHell",
      installed_at: null,
    });
    expect(packages.find((p) => p.name === "tzdata")?.architecture).toBe("all");
  });

  it("keeps installed and held packages of Ubuntu 22.04, both architectures of a multi-arch one, and drops removed ones", () => {
    const packages = parseDpkgStatus(fixture("ubuntu-22.04-dpkg-status"));
    expect(packages.map((p) => `${p.name}:${p.architecture}`)).toEqual([
      "libc6:amd64",
      "libc6:i386",
      "openssl:amd64",
      "tzdata:all",
    ]);
    // The first line of the description only, not its long continuation.
    expect(packages[0].description).toBe("GNU C Library: Shared libraries");
    expect(packages[2].version).toBe("3.0.2-0ubuntu1.18");
  });
});

describe("rpm query", () => {
  it("reads RHEL 9 output: epochs kept when not 0, gpg-pubkey skipped, two kernels kept, install time", () => {
    const packages = parseRpmQuery(fixture("rhel-9-rpm-qa.txt"));
    expect(packages.map((p) => p.name)).toEqual(["kernel-core", "kernel-core", "openssl", "bash", "tzdata"]);
    expect(packages.find((p) => p.name === "openssl")).toMatchObject({
      version: "1:3.0.7-27.el9",
      architecture: "x86_64",
      installed_at: "2024-05-13T14:58:20.000Z",
    });
    expect(packages.find((p) => p.name === "bash")?.version).toBe("5.1.8-9.el9");
    expect(packages.find((p) => p.name === "tzdata")?.architecture).toBe("noarch");
  });

  it("reads Fedora 39 output with a package installed for two architectures", () => {
    const packages = parseRpmQuery(fixture("fedora-39-rpm-qa.txt"));
    expect(packages.filter((p) => p.name === "glibc").map((p) => p.architecture)).toEqual(["i686", "x86_64"]);
    expect(packages.find((p) => p.name === "openssl-libs")?.version).toBe("1:3.1.1-4.fc39");
  });
});

describe("apk installed database", () => {
  it("reads Alpine 3.19 records", () => {
    const packages = parseApkInstalled(fixture("alpine-3.19-installed"));
    expect(packages).toEqual([
      {
        name: "musl",
        version: "1.2.4_git20230717-r4",
        architecture: "x86_64",
        status: "installed",
        description: "the musl c library (libc) implementation",
        installed_at: null,
      },
      expect.objectContaining({ name: "busybox", version: "1.36.1-r15" }),
      expect.objectContaining({ name: "libssl3", version: "3.1.4-r5", description: "SSL shared libraries" }),
    ]);
  });
});

describe("pacman local database", () => {
  it("reads Arch desc files", () => {
    const dir = join(__dirname, "fixtures", "pacman-local");
    const packages = readdirSync(dir)
      .sort()
      .map((d) => parsePacmanDesc(readFileSync(join(dir, d, "desc"), "utf8")));
    expect(packages).toEqual([
      {
        name: "bash",
        version: "5.2.026-2",
        architecture: "x86_64",
        status: "installed",
        description: "The GNU Bourne Again shell",
        installed_at: "2024-03-22T12:57:13.000Z",
      },
      expect.objectContaining({ name: "openssl", version: "1:3.3.0-1" }),
    ]);
  });

  it("returns null for a desc without name or version", () => {
    expect(parsePacmanDesc("%DESC%\nsomething\n")).toBeNull();
  });
});
