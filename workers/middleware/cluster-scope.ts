import { and } from "drizzle-orm";
import {
  assertInScope,
  assertTargetingInScope,
  clusterIdInScope,
  targetingWithin,
} from "../../src/access/cluster-scope";
import { ApiError } from "../../src/errors";
import type { ListQuery } from "../../src/list-query/engine";
import type { OperationSpec } from "../openapi/registry";
import type { AppContext } from "./request-context";

/**
 * Applies the caller's cluster scope to an operation that declares one: a list is narrowed to the
 * scope's clusters, and a single resource outside them is 404. Unscoped principals pass untouched.
 */
export async function applyClusterScope(
  c: AppContext,
  spec: OperationSpec,
  params: Record<string, unknown>,
  list: ListQuery | undefined,
): Promise<void> {
  const scope = c.get("principal")?.clusterScope;
  if (!scope || !spec.clusterScope) return;
  const { param, list: column, targeting } = spec.clusterScope;
  if (param) {
    const value = params[param.name];
    if (typeof value === "string") await assertInScope(c.get("db"), param.clusterName(value), scope);
  }
  if (column && list) list.where = and(list.where, clusterIdInScope(column, scope));
  if (targeting?.param) {
    const value = params[targeting.param.name];
    if (typeof value === "string")
      await assertTargetingInScope(c.get("db"), targeting.param.targeting(value), scope);
  }
  if (targeting?.list && list) list.where = and(list.where, targetingWithin(targeting.list, scope));
}

/**
 * 403 for a cluster-scoped principal on an operation that reaches every cluster (`refuse`). Runs
 * before the body is read: what the caller may do is answered before how it asked.
 */
export function refuseFleetWide(c: AppContext, spec: OperationSpec): void {
  const scope = c.get("principal")?.clusterScope;
  if (!scope || !spec.clusterScope?.refuse) return;
  throw new ApiError(
    "forbidden",
    "A cluster-scoped token cannot use this operation: it reaches every cluster",
    {
      cluster_scope: scope.slice(),
    },
  );
}
