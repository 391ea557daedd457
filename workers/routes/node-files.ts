import type { Hono } from "hono";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { auditStatement } from "../../src/audit/record";
import { ApiError } from "../../src/errors";
import { FilePathQuery, FileUploadResultSchema } from "../../src/node-files/schema";
import { UuidParam } from "../../src/schemas/common";
import { ownAuditEntry } from "../audit/request-audit";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { downloadFile, uploadFile } from "../services/file-transfer";

const TAG = "Nodes.Files";
const nodeParam = { node_id: { schema: UuidParam, description: "Node UUID" } } as const;
const scope = { param: { name: "node_id", clusterName: nodeClusterName } } as const;

/** Registers file download and upload on a node, through its agent and within the host's allowed paths. */
export function registerNodeFileRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/files",
      permission: "files:read",
      clusterScope: scope,
      // The audit row names the node (resource_id); the event says what was done on it.
      audit: { read: true, event: "file.read", resourceType: "node" },
      tag: TAG,
      summary: "Download a file from a node",
      description:
        "Streams the file from the node's agent in chunks with flow control. `Content-Length` and `X-Checksum-Sha256` (computed by the agent before sending) come first. Only regular files inside the node's `OUTPOST_FILE_PATHS` (none by default: the host owner opts in) → else 403; directories, devices and FIFOs → 400; larger than `FILE_TRANSFER_MAX_BYTES` → 413. Audited as `file.read`.",
      params: nodeParam,
      query: { path: { schema: FilePathQuery, description: "Absolute path of the file on the node" } },
      success: {
        status: 200,
        description: "The file's bytes",
        data: null,
        file: ["application/octet-stream"],
      },
      errors: [403, 404, 409, 413, 503],
    },
    async (c, { params, query }) => {
      if (query.path === undefined)
        throw new ApiError("bad_request", "Invalid request parameters", { path: ["is required"] });
      return downloadFile(c.env, c.get("db"), params.node_id, query.path);
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/files",
      permission: "files:write",
      clusterScope: scope,
      audit: {
        event: "file.created",
        resourceType: "node",
        outsideBatch: "the file is written by the agent",
      },
      tag: TAG,
      summary: "Upload a file to a node",
      description:
        "`multipart/form-data` with `file`, `dest` (absolute path inside the node's `OUTPOST_FILE_PATHS`), optional `mode` (octal, default 0644), `overwrite` (default false: an existing file → 409) and `create_dirs` (default false). The agent writes a temporary file beside `dest`, checks its size and SHA-256, then renames it; an interrupted upload leaves nothing behind. A symlink at `dest` is not followed (400). Larger than `FILE_TRANSFER_MAX_BYTES` → 413. Audited as `file.created`.",
      params: nodeParam,
      success: { status: 201, description: "The file was written", data: FileUploadResultSchema },
      errors: [403, 404, 409, 413, 415, 422, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const data = await uploadFile(c.env, db, params.node_id, c.req.raw);
      const entry = ownAuditEntry(c, "file.created", { type: "node", id: params.node_id, status: 201 });
      await auditStatement(db, { ...entry, details: data });
      return { data };
    },
  );
}
