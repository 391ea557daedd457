import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { createApp } from "../../workers/app";
import { buildOpenApiDocument } from "../../workers/openapi/document";

describe("OpenAPI document", () => {
  it("validates against the OpenAPI 3.1 schema", async () => {
    createApp();
    const doc = buildOpenApiDocument("http://127.0.0.1:8787");
    const result = await new Validator().validate(doc as any);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("derives request schemas from the validating valibot schemas", () => {
    createApp();
    const doc = buildOpenApiDocument() as any;
    const create = doc.paths["/api/v1/clusters"].post.requestBody.content["application/json"].schema;
    expect(create.properties.name).toMatchObject({ type: "string", maxLength: 24 });
    expect(create.additionalProperties).toBe(false);
    expect(doc.paths["/api/v1/enrollment_keys/{id}"].get.parameters[0]).toMatchObject({
      name: "id",
      in: "path",
      required: true,
    });
  });
});
