import { AUTHENTICATED, grants } from "../../src/access/permissions";
import type { Principal } from "../../src/access/principal";
import { ApiError } from "../errors";
import type { OperationSpec } from "../openapi/registry";
import { authenticate } from "./authenticate";
import type { AppContext } from "./request-context";

/** 403 unless `principal` holds `permission`. */
export function requirePermission(principal: Principal, permission: string): void {
  if (permission === AUTHENTICATED || grants(principal.permissions, permission)) return;
  throw new ApiError("forbidden", `This operation requires the permission ${permission}`, {
    permission: [`${permission} is not granted to ${principal.type} "${principal.name}"`],
  });
}

/**
 * Authenticates the caller of a non-public operation, puts the principal on the context and checks
 * the operation's declared permission (403 `forbidden`). An operation that declares none is open only
 * to a superuser (`*`), so a route someone forgot to annotate fails closed.
 */
export async function authorize(c: AppContext, spec: OperationSpec): Promise<Principal> {
  const principal = await authenticate(c, { streamToken: spec.success.eventStream === true });
  c.set("principal", principal);
  // Every later line of this request names who made it.
  c.set(
    "log",
    c.get("log").child({ principal: { type: principal.type, id: principal.id, name: principal.name } }),
  );
  requirePermission(principal, spec.permission ?? "*");
  return principal;
}

/** The caller's principal; only for handlers of non-public operations (after `authorize`). */
export function principalOf(c: AppContext): Principal {
  const principal = c.get("principal");
  if (!principal) throw new ApiError("unauthorized");
  return principal;
}
