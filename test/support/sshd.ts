// E2E helper: a real OpenSSH server (Debian's openssh-server) on 127.0.0.1 with its own host key
// and config, local Unix users for it, and the real `ssh` client. Needs root (sshd switches users).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { portIsFree } from "./stack";

export const SSHD = "/usr/sbin/sshd";
// sshd refuses to start without its privilege-separation directory.
const PRIVSEP_DIR = "/run/sshd";

/** True when Debian's sshd is installed (the e2e test skips otherwise). */
export function hasSshd(): boolean {
  return existsSync(SSHD);
}

/**
 * A fresh root-owned 0755 directory whose every parent is root-owned and not group/world-writable,
 * as sshd requires of an AuthorizedKeysCommand and its directories (/tmp, mode 1777, won't do).
 */
export async function rootOwnedDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join("/run", prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** Writes an executable 0755 script. */
export async function writeScript(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o755 });
  await chmod(path, 0o755);
}

export interface Sshd {
  port: number;
  /** Everything sshd logged (it runs with -D -e, so its log goes to stderr). */
  output(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Where the host key, config and log go (any temp dir). */
  dir: string;
  port: number;
  /** Extra sshd_config lines (e.g. AuthorizedKeysCommand …). */
  config: string[];
}

/** Starts `sshd -D -e` with only public-key logins and `options.config`; resolves once it listens. */
export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const createdPrivsep = !existsSync(PRIVSEP_DIR);
  if (createdPrivsep) await mkdir(PRIVSEP_DIR, { mode: 0o755 });
  const hostKey = join(options.dir, "ssh_host_ed25519_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  const configFile = join(options.dir, "sshd_config");
  await writeFile(
    configFile,
    [
      `Port ${options.port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      "PidFile none",
      "UsePAM no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin no",
      "AuthorizedKeysFile none",
      "LogLevel VERBOSE",
      ...options.config,
      "",
    ].join("\n"),
  );
  execFileSync(SSHD, ["-t", "-f", configFile]);
  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", configFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (c) => (log += c));
  child.stderr!.on("data", (c) => (log += c));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const sshd: Sshd = {
    port: options.port,
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (createdPrivsep) await rm(PRIVSEP_DIR, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 10_000;
  while (await portIsFree(options.port)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await sshd.stop();
      throw new Error(`sshd did not start listening on ${options.port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return sshd;
}

/**
 * Creates a local user with a home directory and a usable (non-locked, passwordless) account:
 * with UsePAM no, sshd refuses key logins to accounts whose password field is locked ("!").
 */
export function createUnixUser(name: string): void {
  execFileSync("useradd", ["--create-home", "--shell", "/bin/sh", name]);
  execFileSync("usermod", ["-p", "*", name]);
}

/** Removes the user and its home directory; ignores a user that is already gone. */
export function removeUnixUser(name: string): void {
  try {
    execFileSync("userdel", ["--remove", name], { stdio: "ignore" });
  } catch {
    // not there
  }
}

/** A fresh ed25519 key pair in `dir`; returns the private key path and the public key line. */
export function generateClientKey(dir: string, name: string, comment: string) {
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return { privateKey: file, publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
}

/** Runs `command` over ssh with the real client: batch mode (no prompts), only the given key. */
export function sshRun(options: { port: number; user: string; key: string; command: string }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      "ssh",
      [
        "-F",
        "/dev/null",
        "-p",
        String(options.port),
        "-i",
        options.key,
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "PreferredAuthentications=publickey",
        "-o",
        "ConnectTimeout=15",
        "-o",
        "LogLevel=ERROR",
        `${options.user}@127.0.0.1`,
        options.command,
      ],
      // No agent socket: only the key given here is offered.
      {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c) => (stdout += c));
    child.stderr!.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
