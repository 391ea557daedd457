import { inArray } from "drizzle-orm";
import * as v from "valibot";
import type { Database } from "../db/client";
import { alertRules } from "../db/schema";
import { ApiError } from "../errors";
import { objectMessage, UuidOutput } from "../schemas/common";

/** The built-in rules behind seed 002's `/alerts/config` view (seeded by migration 0008). */
export const BUILT_IN_RULES = {
  cpu: { id: "00000000-0000-4000-8000-00000000a001", name: "CPU usage", warning: 80, critical: 95 },
  memory: { id: "00000000-0000-4000-8000-00000000a002", name: "Memory usage", warning: 85, critical: 95 },
  disk: { id: "00000000-0000-4000-8000-00000000a003", name: "Disk usage", warning: 80, critical: 90 },
} as const;
type Section = keyof typeof BUILT_IN_RULES;
const SECTIONS = Object.keys(BUILT_IN_RULES) as Section[];

/** Whether a rule id is one of the built-in rules (they can be disabled, not deleted). */
export function isBuiltInRule(id: string): boolean {
  return SECTIONS.some((s) => BUILT_IN_RULES[s].id === id);
}

const Percent = v.pipe(
  v.number("must be a number"),
  v.finite("must be a finite number"),
  v.minValue(0, "must be ≥ 0"),
  v.maxValue(100, "must be ≤ 100"),
);
const SectionInput = v.pipe(
  v.strictObject(
    { warning: Percent, critical: Percent, enabled: v.optional(v.boolean("must be a boolean")) },
    objectMessage,
  ),
  v.forward(
    v.check((s) => s.critical > s.warning, "must be higher than warning"),
    ["critical"],
  ),
);

/** `PUT /api/v1/alerts/config`: any of the three sections; each replaces its rule's thresholds. */
export const AlertsConfigRequest = v.pipe(
  v.strictObject(
    { cpu: v.optional(SectionInput), memory: v.optional(SectionInput), disk: v.optional(SectionInput) },
    objectMessage,
  ),
  v.title("AlertsConfigRequest"),
);

const SectionSchema = v.object({
  warning: v.number(),
  critical: v.nullable(v.number()),
  enabled: v.boolean(),
  rule_id: UuidOutput,
});
/** Seed 002's `config`: the thresholds of the built-in cpu, memory and disk rules (percent). */
export const AlertsConfigSchema = v.pipe(
  v.object({ cpu: SectionSchema, memory: SectionSchema, disk: SectionSchema }),
  v.title("AlertsConfig"),
);
export type AlertsConfigResponse = v.InferOutput<typeof AlertsConfigSchema>;

/** The built-in rules' thresholds; a built-in rule missing from the database shows its defaults, disabled. */
export async function readAlertsConfig(db: Database): Promise<AlertsConfigResponse> {
  const ids = SECTIONS.map((s) => BUILT_IN_RULES[s].id);
  const rows = await db.select().from(alertRules).where(inArray(alertRules.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const section = (s: Section) => {
    const def = BUILT_IN_RULES[s];
    const row = byId.get(def.id);
    return row
      ? {
          warning: row.warningThreshold,
          critical: row.criticalThreshold,
          enabled: row.enabled,
          rule_id: row.id,
        }
      : { warning: def.warning, critical: def.critical, enabled: false, rule_id: def.id };
  };
  return { cpu: section("cpu"), memory: section("memory"), disk: section("disk") };
}

/** Sets the built-in rules' thresholds (re-creating a missing one), in one batch. */
export async function writeAlertsConfig(
  db: Database,
  input: v.InferOutput<typeof AlertsConfigRequest>,
): Promise<AlertsConfigResponse> {
  const now = Date.now();
  const statements = SECTIONS.flatMap((s) => {
    const given = input[s];
    if (!given) return [];
    const def = BUILT_IN_RULES[s];
    const values = {
      warningThreshold: given.warning,
      criticalThreshold: given.critical,
      ...(given.enabled === undefined ? {} : { enabled: given.enabled }),
      updatedAt: now,
    };
    return [
      db
        .insert(alertRules)
        .values({
          id: def.id,
          name: def.name,
          metric: s,
          operator: "gt",
          forSeconds: 60,
          targeting: JSON.stringify({ type: "all" }),
          enabled: given.enabled ?? true,
          channelIds: "[]",
          repeatIntervalSeconds: 3600,
          insertedAt: now,
          ...values,
        })
        .onConflictDoUpdate({ target: alertRules.id, set: { ...values, operator: "gt", metric: s } }),
    ];
  });
  const [first, ...rest] = statements;
  if (!first)
    throw new ApiError("validation_failed", "Validation failed", {
      cpu: ["give at least one of cpu, memory, disk"],
    });
  await db.batch([first, ...rest]);
  return readAlertsConfig(db);
}
