import type { Hono } from "hono";
import { grants } from "../../src/access/permissions";
import { createApiToken, revokeApiToken, rotateApiToken } from "../../src/api-tokens/issue";
import { apiTokenListSpec } from "../../src/api-tokens/list";
import { presentApiToken } from "../../src/api-tokens/present";
import {
  ApiTokenCreateRequest,
  ApiTokenResponseSchema,
  ApiTokenSecretResponseSchema,
} from "../../src/api-tokens/schema";
import { getApiToken, listApiTokens, tokenVisibility } from "../../src/api-tokens/store";
import { UuidParam } from "../../src/schemas/common";
import { ownAuditEntry } from "../audit/request-audit";
import { principalOf } from "../middleware/authorize";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";

const TAG = "Access.ApiToken";
const idParam = { id: { schema: UuidParam, description: "API token ID" } };

// Without `api_tokens:admin` a principal sees only the tokens it (or its user) created.
function visible(c: AppContext) {
  const principal = principalOf(c);
  return tokenVisibility(principal, grants(principal.permissions, "api_tokens:admin"));
}

/** Registers `/api/v1/api_tokens`: scoped, optionally cluster-limited credentials for CI and scripts. */
export function registerApiTokenRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/api_tokens",
      tag: TAG,
      summary: "Create an API token",
      description:
        "Answers the secret (`otp_…`) once. `scopes` are permissions and must be among the caller's own (403). `cluster_names` limits the token to those clusters' nodes, executions and keys (null: every cluster; a cluster-scoped caller passes its scope on).",
      permission: "api_tokens:write",
      audit: false,
      body: ApiTokenCreateRequest,
      success: { status: 201, description: "Token created", data: ApiTokenSecretResponseSchema },
      errors: [403, 422, 503],
    },
    async (c, { body }) => {
      const audit = ownAuditEntry(c, "api_token.created", { type: "api_token", id: null, status: 201 });
      const { row, secret } = await createApiToken(c.get("db"), principalOf(c), body, audit);
      return { data: { ...presentApiToken(row), token: secret } };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/api_tokens",
      tag: TAG,
      summary: "List API tokens",
      description: "Your tokens (every principal's with `api_tokens:admin`). Never the secrets.",
      permission: "api_tokens:read",
      list: apiTokenListSpec,
      success: {
        status: 200,
        description: "Paginated list of tokens",
        data: ApiTokenResponseSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const { rows, pagination } = await listApiTokens(c.get("db"), list, visible(c));
      return { data: rows.map(presentApiToken), pagination };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/api_tokens/{id}",
      tag: TAG,
      summary: "Get an API token",
      permission: "api_tokens:read",
      params: idParam,
      success: { status: 200, description: "The token", data: ApiTokenResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({
      data: presentApiToken(await getApiToken(c.get("db"), params.id, visible(c))),
    }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/api_tokens/{id}",
      tag: TAG,
      summary: "Revoke an API token",
      description: "The token stops working at once; it stays listed with `revoked: true`.",
      permission: "api_tokens:write",
      audit: false,
      params: idParam,
      success: { status: 204, description: "Revoked", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const row = await getApiToken(db, params.id, visible(c));
      await revokeApiToken(
        db,
        row,
        ownAuditEntry(c, "api_token.revoked", { type: "api_token", id: row.id, status: 204 }),
      );
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/api_tokens/{id}/rotate",
      tag: TAG,
      summary: "Rotate an API token's secret",
      description: "Answers a new secret once; the old one stops working at once. A revoked token is 409.",
      permission: "api_tokens:write",
      audit: false,
      params: idParam,
      success: {
        status: 200,
        description: "The token with its new secret",
        data: ApiTokenSecretResponseSchema,
      },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const row = await getApiToken(db, params.id, visible(c));
      const audit = ownAuditEntry(c, "api_token.rotated", { type: "api_token", id: row.id, status: 200 });
      const rotated = await rotateApiToken(db, row, audit);
      return { data: { ...presentApiToken(rotated.row), token: rotated.secret } };
    },
  );
}
