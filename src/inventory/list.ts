import { sql } from "drizzle-orm";
import { nodePackages } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { textFilter } from "../list-query/filters";

const wildcard = (what: string, example: string) =>
  `Filter by ${what} (exact match or wildcard with *: ${example})`;

const packageFilters = {
  name: textFilter(sql`${nodePackages.name}`, wildcard("package name", "openssl, libssl*")),
  version: textFilter(sql`${nodePackages.version}`, wildcard("version", "3.0.*")),
  architecture: textFilter(sql`${nodePackages.architecture}`, wildcard("architecture", "amd64")),
};

/** `GET /nodes/{id}/software`: one node's packages. */
export const nodeSoftwareListSpec: ListSpec = {
  filters: {
    ...packageFilters,
    status: textFilter(sql`${nodePackages.status}`, wildcard("package status", "installed")),
  },
  sortable: {
    name: sql`${nodePackages.name}`,
    version: sql`${nodePackages.version}`,
    architecture: sql`${nodePackages.architecture}`,
    installed_at: sql`${nodePackages.installedAt}`,
  },
  defaultOrder: [{ field: "name", direction: "asc" }],
  // (name, architecture, version) is unique per node.
  tieBreaker: sql`${nodePackages.name} || char(0) || ${nodePackages.architecture} || char(0) || ${nodePackages.version}`,
};

/** `GET /software`: the fleet's packages grouped by name and version. */
export const fleetSoftwareListSpec: ListSpec = {
  filters: packageFilters,
  sortable: {
    name: sql`name`,
    version: sql`version`,
    node_count: sql`node_count`,
  },
  defaultOrder: [
    { field: "name", direction: "asc" },
    { field: "version", direction: "asc" },
  ],
  tieBreaker: sql`name || char(0) || version`,
};
