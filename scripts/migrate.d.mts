/** Applies pending drizzle migrations to one libSQL database; safe to run repeatedly. */
export function applyMigrations(target: { url: string; authToken?: string }): Promise<void>;
