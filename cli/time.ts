import { CliError } from "./errors";

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w` from now, or an ISO 8601 time as given → an ISO 8601 time. */
export function expiryFrom(text: string, now = Date.now()): string {
  const duration = /^(\d+)([mhdw])$/.exec(text.trim());
  if (duration) return new Date(now + Number(duration[1]) * UNIT_MS[duration[2]]).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new CliError(`'${text}' is neither a duration (30d, 12h) nor an ISO 8601 time`);
  return new Date(at).toISOString();
}
