import { realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { RpcErrorCode } from "../../src/protocol/reach-methods";
import { ConfigError } from "../config";

/**
 * What the host owner allows the server to reach (environment, read once at boot). The server cannot
 * switch any of it back on: a refusal is answered `policy`, which the API shows as 403.
 */
export interface ReachPolicy {
  files: boolean;
  signals: boolean;
  logs: boolean;
  /** Container logs through the Docker socket (off by default: the socket reaches every container). */
  docker: boolean;
  /** The Docker Engine API's unix socket. */
  dockerSocket: string;
  /** Roots (resolved) a download or upload may touch; none by default, so files stay off until listed. */
  filePaths: string[];
  /** Roots (resolved) a log file query or tail may read (default `/var/log`). */
  logPaths: string[];
  /** The agent's state directory: never readable or writable through reach-in, whatever the lists say. */
  stateDir: string;
}

/** An answer the agent sends back as `rpc_result {ok: false, error}`. */
export class RpcFailure extends Error {
  constructor(
    readonly code: RpcErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback = "on"): boolean {
  const raw = (env[name] ?? fallback).trim().toLowerCase();
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  throw new ConfigError(`${name} must be on or off, got "${env[name]}"`);
}

function paths(env: NodeJS.ProcessEnv, name: string, fallback: string): string[] {
  const list = (env[name] ?? fallback)
    .split(/[,:]/)
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of list) if (!isAbsolute(p)) throw new ConfigError(`${name}: "${p}" is not an absolute path`);
  return list.map((p) => resolve(p));
}

/**
 * Reads `OUTPOST_FILES`, `OUTPOST_SIGNALS`, `OUTPOST_LOGS` (on|off, default on), `OUTPOST_DOCKER_LOGS`
 * (default off), `OUTPOST_DOCKER_SOCKET` (default `/var/run/docker.sock`), `OUTPOST_FILE_PATHS`
 * (default none) and `OUTPOST_LOG_PATHS` (default `/var/log`), comma- or colon-separated.
 * @throws ConfigError naming the bad variable (the agent exits 2)
 */
export function reachPolicy(env: NodeJS.ProcessEnv, stateDir: string): ReachPolicy {
  return {
    files: flag(env, "OUTPOST_FILES"),
    signals: flag(env, "OUTPOST_SIGNALS"),
    logs: flag(env, "OUTPOST_LOGS"),
    docker: flag(env, "OUTPOST_DOCKER_LOGS", "off"),
    dockerSocket: dockerSocket(env),
    filePaths: paths(env, "OUTPOST_FILE_PATHS", ""),
    logPaths: paths(env, "OUTPOST_LOG_PATHS", "/var/log"),
    stateDir: resolve(stateDir),
  };
}

function dockerSocket(env: NodeJS.ProcessEnv): string {
  const socket = env.OUTPOST_DOCKER_SOCKET?.trim() || "/var/run/docker.sock";
  if (!isAbsolute(socket))
    throw new ConfigError(`OUTPOST_DOCKER_SOCKET: "${socket}" is not an absolute path`);
  return socket;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

/** Whether a resolved path lies under one of `roots` and outside the state directory. */
export function allowedPath(policy: ReachPolicy, roots: readonly string[], path: string): boolean {
  if (inside(policy.stateDir, path)) return false;
  return roots.some((root) => inside(root, path));
}

/** Checks an absolute path the server sent: no NUL, absolute; returns it normalised. */
export function requestedPath(path: string): string {
  if (!isAbsolute(path) || path.includes("\0"))
    throw new RpcFailure("bad_request", "path must be absolute and contain no NUL");
  return resolve(path);
}

/**
 * The real path of an existing file inside `roots` (symlinks resolved, so a link cannot lead out).
 * @throws RpcFailure not_found | policy
 */
export async function resolveAllowed(
  policy: ReachPolicy,
  roots: readonly string[],
  path: string,
): Promise<string> {
  const wanted = requestedPath(path);
  if (!allowedPath(policy, roots, wanted))
    throw new RpcFailure("policy", `${wanted} is outside the paths this host allows`);
  let real: string;
  try {
    real = await realpath(wanted);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new RpcFailure("not_found", `${wanted} does not exist`);
    throw new RpcFailure("policy", `${wanted}: ${(error as Error).message}`);
  }
  if (!allowedPath(policy, roots, real))
    throw new RpcFailure("policy", `${wanted} resolves outside the paths this host allows`);
  return real;
}
