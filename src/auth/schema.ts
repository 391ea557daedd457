import * as v from "valibot";
import type { Principal } from "../access/principal";
import { UserResponseSchema } from "../users/schema";

/** The caller: any principal, with its user when it is a user session. */
export const MeResponseSchema = v.pipe(
  v.object({
    type: v.picklist(["api_key", "user", "api_token"]),
    id: v.string(),
    name: v.string(),
    permissions: v.array(v.string()),
    cluster_scope: v.nullable(v.array(v.string())),
    user: v.nullable(UserResponseSchema),
  }),
  v.title("MeResponse"),
);
export type MeResponse = v.InferOutput<typeof MeResponseSchema>;

/** The principal part of `MeResponse`. */
export function presentPrincipal(p: Principal): Omit<MeResponse, "user"> {
  return {
    type: p.type,
    id: p.id,
    name: p.name,
    permissions: [...p.permissions],
    cluster_scope: p.clusterScope ? [...p.clusterScope] : null,
  };
}
