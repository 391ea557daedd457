import { swaggerUI } from "@hono/swagger-ui";
import type { Hono } from "hono";
import type { AppEnv } from "../middleware/request-context";
import { buildOpenApiDocument } from "../openapi/document";

/** Public API documentation: the OpenAPI JSON and Swagger UI over it. */
export function registerDocsRoutes(app: Hono<AppEnv>): void {
  app.get("/api/v1/openapi.json", (c) => c.json(buildOpenApiDocument(new URL(c.req.url).origin)));
  app.get("/swaggerui", swaggerUI({ url: "/api/v1/openapi.json", title: "Outpost API" }));
}
