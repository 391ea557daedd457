import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import type { AgentConfig, IdType } from "./config";
import { ConfigError } from "./config";
import { readJsonFile, writeFileAtomic } from "./files";
import { createHash, randomUUID } from "./light-crypto";

/**
 * Namespace of persistent node ids: node_id = UUIDv5(NODE_ID_NAMESPACE, machine-id).
 * Fixed forever: changing it would give every enrolled machine a new id. Hashing (rather
 * than sending /etc/machine-id itself) keeps the raw machine id private, as systemd
 * asks of applications (machine-id(5)).
 */
export const NODE_ID_NAMESPACE = "c0fd1f2d-50ab-4f47-b7f8-134b8da2bcf1";

const DEFAULT_MACHINE_ID_FILES = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

/** What a node keeps after enrolment: who it is and how to authenticate. */
const identitySchema = () =>
  v.object({
    node_id: v.pipe(v.string(), v.uuid()),
    id_type: v.picklist(["persistent", "random"]),
    server: v.pipe(v.string(), v.url()),
    api_token: v.pipe(v.string(), v.minLength(1)),
    cluster_name: v.string(),
    enrolled_at: v.string(),
  });
export type Identity = v.InferOutput<ReturnType<typeof identitySchema>>;

/** identity.json inside the state dir. */
export function identityPath(stateDir: string): string {
  return join(stateDir, "identity.json");
}

/**
 * RFC 4122 name-based UUID, version 5 (SHA-1).
 * @example uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8") // "2ed6657d-e927-568b-95e1-2665a8aea6a2"
 */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(ns).update(name, "utf8").digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function readMachineId(file: string | null): Promise<string> {
  const candidates = file ? [file] : DEFAULT_MACHINE_ID_FILES;
  for (const path of candidates) {
    let text: string;
    try {
      text = (await readFile(path, "utf8")).trim();
    } catch {
      continue;
    }
    // An empty or "uninitialized" machine-id (fresh images) would give every clone one id.
    if (!/^[0-9a-f]{32}$/i.test(text)) {
      throw new ConfigError(
        `cannot derive a persistent node id: ${path} does not hold a machine id (set OUTPOST_ID_TYPE=random to use a random id kept in the state dir)`,
      );
    }
    return text.toLowerCase();
  }
  throw new ConfigError(
    `cannot derive a persistent node id: ${candidates.join(" and ")} not found (set OUTPOST_ID_TYPE=random to use a random id kept in the state dir)`,
  );
}

/**
 * The node id to enrol with. `persistent`: derived from the machine id, so a reinstall
 * keeps the node. `random`: a v4 kept in `<state>/node-id`, so a retried enrolment (after
 * a crash or refusal) reuses it.
 * @throws ConfigError when the machine id is missing or blank
 */
export async function resolveNodeId(
  config: Pick<AgentConfig, "stateDir" | "idType" | "machineIdFile">,
): Promise<string> {
  if (config.idType === "persistent")
    return uuidV5(await readMachineId(config.machineIdFile), NODE_ID_NAMESPACE);
  const file = join(config.stateDir, "node-id");
  try {
    const kept = (await readFile(file, "utf8")).trim();
    if (v.is(v.pipe(v.string(), v.uuid()), kept)) return kept;
  } catch {
    // none kept yet
  }
  const fresh = randomUUID();
  await writeFileAtomic(file, `${fresh}\n`, 0o600);
  return fresh;
}

/**
 * Loads the saved identity, or null when the node has not enrolled.
 * @throws Error naming the file when it exists but is unreadable or malformed
 */
export async function loadIdentity(stateDir: string): Promise<Identity | null> {
  const path = identityPath(stateDir);
  let raw: unknown;
  try {
    raw = await readJsonFile(path);
  } catch (error) {
    throw new Error(
      `identity file ${path} is unreadable (${(error as Error).message}); move it away to enrol again`,
      { cause: error },
    );
  }
  if (raw === null) return null;
  const parsed = v.safeParse(identitySchema(), raw);
  if (!parsed.success) {
    throw new Error(
      `identity file ${path} is malformed (${parsed.issues[0].message}); move it away to enrol again`,
    );
  }
  return parsed.output;
}

/** Saves the identity with mode 0600 (it holds the node's API token), atomically. */
export async function saveIdentity(stateDir: string, identity: Identity): Promise<void> {
  await writeFileAtomic(identityPath(stateDir), `${JSON.stringify(identity, null, 2)}\n`, 0o600);
}

/** The id this machine derives now, when it differs from the saved persistent one (a cloned disk); else null. */
export async function persistentIdMismatch(
  identity: Identity,
  machineIdFile: string | null,
): Promise<string | null> {
  if (identity.id_type !== ("persistent" satisfies IdType)) return null;
  try {
    const derived = uuidV5(await readMachineId(machineIdFile), NODE_ID_NAMESPACE);
    return derived === identity.node_id ? null : derived;
  } catch {
    return null;
  }
}
