import * as v from "valibot";
import { patternError } from "./permissions";

/** A permission pattern (`<resource>:<action>`, either part `*`, or `*`) from the catalog. */
export const PermissionPattern = v.pipe(
  v.string("must be a string"),
  v.maxLength(64, "must be at most 64 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = patternError(dataset.value);
    if (problem) addIssue({ message: problem });
  }),
  v.description("`<resource>:<action>` with `*` wildcards, e.g. `nodes:read`, `webhooks:*`, `*:read`, `*`"),
);

/** A list of permission patterns, deduplicated. */
export const PermissionList = v.pipe(
  v.array(PermissionPattern, "must be an array of permissions"),
  v.maxLength(100, "must have at most 100 entries"),
  v.transform((list) => [...new Set(list)]),
);
