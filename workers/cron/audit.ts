import { pruneAuditEvents } from "../../src/audit/retention";
import { sealAuditEvents } from "../../src/audit/seal";
import { type Env, loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { pruneExpiredSessions } from "../../src/sessions/store";
import type { CronJob } from "./types";

/**
 * Seals audit events a request's own sealing missed, prunes those past AUDIT_RETENTION_DAYS (keeping
 * the checkpoint) and deletes expired sessions.
 */
export const auditJob: CronJob = {
  name: "audit",
  async run(env: Env) {
    const config = loadConfig(env);
    const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    const now = Date.now();
    const sealed = await sealAuditEvents(db, config.auditSigningKey);
    const pruned = await pruneAuditEvents(db, config.auditRetentionDays, now);
    const sessions = await pruneExpiredSessions(db, now);
    return { sealed, pruned, expired_sessions: sessions.rowsAffected };
  },
};
