import { readFile } from "node:fs/promises";
import { readText, Unavailable } from "../budget";
import { lastlogTime, loginAllowed, parseGroup, parsePasswd, parseUidMin } from "../parse/accounts";

async function lastlog(): Promise<Buffer | null> {
  try {
    return await readFile("/var/log/lastlog");
  } catch {
    // Distributions with lastlog2 keep it in SQLite, which this agent does not read: last_login is null.
    return null;
  }
}

/** `users`: local accounts of /etc/passwd with login shell, system flag and last login. */
export async function collectUsers() {
  const passwd = await readText("/etc/passwd");
  if (passwd === null) throw new Unavailable("/etc/passwd is not readable");
  const uidMin = parseUidMin(await readText("/etc/login.defs"));
  const logins = await lastlog();
  const users = parsePasswd(passwd).map((u) => ({
    ...u,
    login_allowed: loginAllowed(u.shell),
    // uid 0 is root, not a system account in the login.defs sense, but it is no regular user either.
    is_system: u.uid < uidMin,
    last_login: logins ? lastlogTime(logins, u.uid) : null,
  }));
  return { users, source: "/etc/passwd" };
}

/** `groups`: /etc/group with members, plus the users whose primary group it is (which /etc/group omits). */
export async function collectGroups() {
  const group = await readText("/etc/group");
  if (group === null) throw new Unavailable("/etc/group is not readable");
  const users = parsePasswd((await readText("/etc/passwd")) ?? "");
  const groups = parseGroup(group).map((g) => ({
    ...g,
    primary_members: users.filter((u) => u.gid === g.gid).map((u) => u.username),
  }));
  return { groups };
}
