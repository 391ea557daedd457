import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../workers/openapi/document";
import { documentedResponseProblems, type OpenApiDocument } from "../support/response-schemas";
import "./harness"; // loads the Worker, which registers every operation

// The harness and the fuzzer hold every 2xx body to the OpenAPI document; these prove that check
// is not vacuous: it rejects bodies that drift from the documented schema.
const doc = () => buildOpenApiDocument() as unknown as OpenApiDocument;
const NODE = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const META = { request_id: "req-12345678", timestamp: "2026-12-04T10:00:00.000Z" };

describe("documented response check", () => {
  it("rejects an enveloped body whose data lacks documented fields or has the wrong types", () => {
    const body = JSON.stringify({ data: { id: 1, name: "edge" }, meta: META });
    const problems = documentedResponseProblems(
      doc(),
      "GET",
      "/api/v1/clusters/edge",
      200,
      "application/json",
      body,
    );
    expect(problems).toContain("GET /api/v1/clusters/{name} 200: response schema: /data/id must be string");
    expect(problems.some((p) => p.includes("required property 'node_count'"))).toBe(true);
  });

  it("rejects host metrics wrapped in {data, meta}: the contract's HostMetricsResponse is bare", () => {
    const body = JSON.stringify({ data: {}, meta: META });
    const path = `/api/v1/nodes/${NODE}/metrics/host`;
    const problems = documentedResponseProblems(doc(), "GET", path, 200, "application/json", body);
    expect(problems.some((p) => p.includes("required property 'cpu'"))).toBe(true);
  });

  it("rejects a status or media type the operation does not document", () => {
    const d = doc();
    expect(documentedResponseProblems(d, "POST", "/api/v1/clusters", 200, "application/json", "{}")).toEqual([
      "status 200 is not documented for POST /api/v1/clusters",
    ]);
    const stream = `/api/v1/command_executions/${NODE}/stream`;
    expect(documentedResponseProblems(d, "GET", stream, 200, "text/event-stream", null)).toEqual([]);
    expect(documentedResponseProblems(d, "GET", stream, 200, "application/json", "{}")[0]).toMatch(
      /content-type application\/json is not documented/,
    );
  });

  it("accepts a body that matches, and leaves error statuses to the envelope checks", () => {
    const list = JSON.stringify({
      data: [],
      meta: {
        ...META,
        pagination: {
          has_next: false,
          has_prev: false,
          next_page: null,
          page: 1,
          page_size: 20,
          prev_page: null,
          total_count: 0,
          total_pages: 0,
        },
      },
    });
    expect(
      documentedResponseProblems(doc(), "GET", "/api/v1/clusters?page=1", 200, "application/json", list),
    ).toEqual([]);
    expect(
      documentedResponseProblems(doc(), "GET", "/api/v1/clusters/x", 404, "application/json", "{}"),
    ).toEqual([]);
  });
});
