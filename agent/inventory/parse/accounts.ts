// Parsers of the local account databases: /etc/passwd, /etc/group, /etc/login.defs and lastlog.

/** One /etc/passwd entry (the password field is never read). */
export interface PasswdEntry {
  username: string;
  uid: number;
  gid: number;
  home_directory: string;
  shell: string;
}

const NOLOGIN_SHELLS = /(^|\/)(nologin|false)$/;

/** /etc/passwd → entries; NIS `+`/`-` lines and malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
    const f = line.split(":");
    if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ username: f[0], uid: Number(f[2]), gid: Number(f[3]), home_directory: f[5], shell: f[6] });
  }
  return out;
}

/** Whether a shell lets the user log in (not nologin, not false, not empty — an empty field means /bin/sh). */
export function loginAllowed(shell: string): boolean {
  return !NOLOGIN_SHELLS.test(shell.trim());
}

/** One /etc/group entry. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** /etc/group → entries; the member list is comma-separated and may be empty. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
    const f = line.split(":");
    if (f.length < 4 || !/^\d+$/.test(f[2])) continue;
    const members = f[3]
      .split(",")
      .map((m) => m.trim())
      .filter((m) => m !== "");
    out.push({ name: f[0], gid: Number(f[2]), members });
  }
  return out;
}

/** UID_MIN from /etc/login.defs: below it, an account is a system account (default 1000). */
export function parseUidMin(text: string | null): number {
  const match = text ? /^\s*UID_MIN\s+(\d+)/m.exec(text) : null;
  return match ? Number(match[1]) : 1000;
}

/** A lastlog record is 292 bytes on 64-bit Linux: int32 time, char line[32], char host[256]. */
export const LASTLOG_RECORD_BYTES = 292;

/** The last login time of `uid` from a lastlog buffer, or null (never logged in / beyond the file). */
export function lastlogTime(buffer: Buffer, uid: number): string | null {
  const offset = uid * LASTLOG_RECORD_BYTES;
  if (offset + 4 > buffer.length) return null;
  const seconds = buffer.readInt32LE(offset);
  return seconds > 0 ? new Date(seconds * 1000).toISOString() : null;
}
