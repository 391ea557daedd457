import { INVENTORY_SECTIONS, type InventorySection } from "../protocol/inventory-sections";
import { isoSeconds } from "../time";
import type { InventorySectionResponse } from "./schema";
import type { FleetPackageRow, InventoryRow, PackageRow } from "./store";

function parseData(json: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Renders a stored section. */
export function presentSection(row: InventoryRow): InventorySectionResponse {
  return {
    section: row.section as InventorySection,
    status: row.status,
    reason: row.reason,
    content_hash: row.contentHash,
    collected_at: isoSeconds(row.collectedAt),
    updated_at: isoSeconds(row.updatedAt),
    data: parseData(row.data),
  };
}

/** Renders a node's whole inventory: its sections in catalog order and the ones it has not reported. */
export function presentInventory(nodeId: string, rows: InventoryRow[]) {
  const bySection = new Map(rows.map((r) => [r.section, r]));
  const sections = [];
  const notReported: InventorySection[] = [];
  for (const section of INVENTORY_SECTIONS) {
    const row = bySection.get(section);
    if (row) sections.push(presentSection(row));
    else notReported.push(section);
  }
  return { node_id: nodeId, sections, not_reported: notReported };
}

/** Renders a node's packages. */
export function presentPackages(rows: PackageRow[]) {
  return rows.map((r) => ({
    name: r.name,
    version: r.version,
    architecture: r.architecture,
    status: r.status,
    source: r.source,
    description: r.description,
    installed_at: r.installedAt === null ? null : isoSeconds(r.installedAt),
  }));
}

/** Renders the fleet software search. */
export function presentFleetPackages(rows: FleetPackageRow[]) {
  return rows.map((r) => ({
    name: r.name,
    version: r.version,
    architectures: (r.architectures ?? "").split(",").filter(Boolean).sort(),
    node_count: Number(r.node_count),
  }));
}
