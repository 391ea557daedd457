// A registration waiting for approval (keys with requires_approval): its id and secret are kept in
// the state dir, so an agent restarted while it waits resumes polling instead of spending another
// key use on a second registration.
import { join } from "node:path";
import * as v from "valibot";
import { readJsonFile, removeFile, writeFileAtomic } from "./files";

/** The server rejected this machine's registration (or it expired unapproved). Exit 6. */
export class RegistrationRejected extends Error {}

const pendingSchema = () =>
  v.object({
    registration_id: v.pipe(v.string(), v.uuid()),
    registration_secret: v.pipe(v.string(), v.minLength(1)),
    node_id: v.pipe(v.string(), v.uuid()),
    server: v.string(),
  });
export type PendingRegistration = v.InferOutput<ReturnType<typeof pendingSchema>>;

/** Where the state dir keeps a pending registration. */
export function registrationPath(stateDir: string): string {
  return join(stateDir, "registration.json");
}

/** The kept registration for this node and server, or null (none, another node's, or unreadable). */
export async function loadRegistration(
  stateDir: string,
  nodeId: string,
  server: string,
): Promise<PendingRegistration | null> {
  const raw = await readJsonFile(registrationPath(stateDir)).catch(() => null);
  const parsed = v.safeParse(pendingSchema(), raw);
  if (!parsed.success) return null;
  return parsed.output.node_id === nodeId && parsed.output.server === server ? parsed.output : null;
}

/** Keeps a registration (mode 0600: its secret fetches the node's token once approved). */
export async function saveRegistration(stateDir: string, pending: PendingRegistration): Promise<void> {
  await writeFileAtomic(registrationPath(stateDir), `${JSON.stringify(pending, null, 2)}\n`, 0o600);
}

/** Forgets the registration once it is decided. */
export async function clearRegistration(stateDir: string): Promise<void> {
  await removeFile(registrationPath(stateDir));
}
