import * as v from "valibot";
import { type InventorySection, sectionDataSchema } from "../../src/protocol/inventory-sections";
import { Unavailable, withBudget } from "./budget";
import { collectGroups, collectUsers } from "./collect/accounts";
import { collectChildren } from "./collect/children";
import { collectContainers } from "./collect/containers";
import { collectHardware } from "./collect/hardware";
import { collectNetwork } from "./collect/network";
import { collectListeningPorts } from "./collect/ports";
import { collectServices } from "./collect/services";
import { collectSoftware } from "./collect/software";
import { collectStorage } from "./collect/storage";
import { collectSystem } from "./collect/system";
import { collectUpdates } from "./collect/updates";
import { contentHash } from "./hash";

/** What one collection run may do beyond reading. */
export interface CollectOptions {
  /** Let the package manager refresh its index first (only on an operator's explicit request). */
  refreshCache: boolean;
}

interface Collector {
  /** Time budget: past it, the section is reported unavailable and the run moves on. */
  budgetMs: number;
  collect(options: CollectOptions): Promise<object>;
}

// Budgets are generous for package managers (rpm -qa on a big host takes seconds) and short for /proc reads.
const COLLECTORS: Record<InventorySection, Collector> = {
  system: { budgetMs: 5_000, collect: collectSystem },
  hardware: { budgetMs: 5_000, collect: collectHardware },
  storage: { budgetMs: 10_000, collect: collectStorage },
  network: { budgetMs: 5_000, collect: collectNetwork },
  users: { budgetMs: 5_000, collect: collectUsers },
  groups: { budgetMs: 5_000, collect: collectGroups },
  software: { budgetMs: 30_000, collect: collectSoftware },
  services: { budgetMs: 20_000, collect: collectServices },
  containers: { budgetMs: 10_000, collect: collectContainers },
  listening_ports: { budgetMs: 10_000, collect: collectListeningPorts },
  // A refresh_cache run may download package indexes.
  updates: { budgetMs: 330_000, collect: (o) => collectUpdates(o) },
  children: { budgetMs: 15_000, collect: collectChildren },
};

/** One collected section, ready for an `inventory` frame. */
export type CollectedSection =
  | {
      section: InventorySection;
      status: "ok";
      data: Record<string, unknown>;
      content_hash: string;
      collected_at: number;
    }
  | {
      section: InventorySection;
      status: "unavailable";
      reason: string;
      data: null;
      content_hash: string;
      collected_at: number;
    };

/**
 * Largest section the agent collects: one over a frame travels in `inventory_chunk` slices, and
 * the server holds at most MAX_CHUNKS of them (32 MiB); half of that keeps the agent's own peak low.
 */
export const MAX_SECTION_BYTES = 16 * 1024 * 1024;

// A host with tens of thousands of packages can pass the limit: descriptions go first, as the least needed.
function fitSection(
  section: InventorySection,
  data: Record<string, unknown>,
): Record<string, unknown> | null {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  if (size(data) <= MAX_SECTION_BYTES) return data;
  if (section === "software" && Array.isArray(data.packages)) {
    const slim = {
      ...data,
      packages: (data.packages as Record<string, unknown>[]).map((p) => ({ ...p, description: null })),
    };
    if (size(slim) <= MAX_SECTION_BYTES) return slim;
  }
  return null;
}

/** A section reported as unavailable (its hash covers the reason, so a new reason is a change). */
export function unavailable(section: InventorySection, reason: string, at = Date.now()): CollectedSection {
  return {
    section,
    status: "unavailable",
    reason: reason.slice(0, 500),
    data: null,
    content_hash: contentHash(section, "unavailable", reason),
    collected_at: at,
  };
}

/**
 * Collects one section within its budget and checks it against the shared schema, so a frame the
 * server would reject is never sent. Anything that goes wrong becomes an `unavailable` section.
 */
export async function collectSection(
  section: InventorySection,
  options: CollectOptions,
): Promise<CollectedSection> {
  const collector = COLLECTORS[section];
  const at = Date.now();
  try {
    const data = await withBudget(collector.collect(options), collector.budgetMs, `the ${section} collector`);
    const checked = v.safeParse(sectionDataSchema(section), data);
    if (!checked.success) {
      const issue = checked.issues[0];
      const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
      return unavailable(section, `collected data does not fit the schema at ${path}: ${issue.message}`, at);
    }
    const record = fitSection(section, checked.output as Record<string, unknown>);
    if (!record)
      return unavailable(section, `larger than ${MAX_SECTION_BYTES} bytes even without descriptions`, at);
    return {
      section,
      status: "ok",
      data: record,
      content_hash: contentHash(section, "ok", record),
      collected_at: at,
    };
  } catch (error) {
    const reason =
      error instanceof Unavailable ? error.message : `collection failed: ${(error as Error).message}`;
    return unavailable(section, reason, at);
  }
}
