// The marker file (`<state>/self-update.json`): what the agent remembers about an update across restarts.
import { join } from "node:path";
import { readJsonFile, removeFile, writeFileAtomic } from "../files";

/** The marker's file name inside the state directory. */
export const MARKER_FILE = "self-update.json";

/** What the agent remembers about an update across restarts. */
export interface Marker {
  state: "trial" | "confirmed" | "failed";
  from_version: string;
  to_version: string;
  /** The bundle file that was replaced. */
  bundle: string;
  /** The old process supervising the trial; null when none is (e.g. a refused download). */
  watchdog_pid: number | null;
  started_at: string;
  failed_at?: string;
  message?: string;
}

const markerPath = (stateDir: string) => join(stateDir, MARKER_FILE);

/** The marker, or null when there is none (or it is unreadable: it is then ignored). */
export async function readMarker(stateDir: string): Promise<Marker | null> {
  try {
    return (await readJsonFile(markerPath(stateDir))) as Marker | null;
  } catch {
    return null;
  }
}

/** Writes the marker atomically. */
export async function writeMarker(stateDir: string, marker: Marker): Promise<void> {
  await writeFileAtomic(markerPath(stateDir), `${JSON.stringify(marker, null, 2)}\n`);
}

/** Removes the marker (no error when there is none). */
export async function clearMarker(stateDir: string): Promise<void> {
  await removeFile(markerPath(stateDir));
}
