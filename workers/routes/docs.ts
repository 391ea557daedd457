import type { Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { buildOpenApiDocument } from "../openapi/document";

// Everything below /swaggerui/ comes from the Worker's own assets (dist/public/swaggerui, published by
// scripts/build-docs-assets.mjs from the pinned swagger-ui-dist): no CDN, and the operator's key never
// reaches a third-party script. No inline script: the page's CSP allows same-origin scripts only.
const SWAGGER_UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outpost API</title>
<link rel="stylesheet" href="/swaggerui/swagger-ui.css">
<link rel="icon" type="image/png" href="/swaggerui/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="/swaggerui/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swaggerui/swagger-ui-bundle.js"></script>
<script src="/swaggerui/swagger-initializer.js"></script>
</body>
</html>
`;

const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Public API documentation: the OpenAPI JSON and Swagger UI over it, served from this origin. */
export function registerDocsRoutes(app: Hono<AppEnv>): void {
  app.get("/api/v1/openapi.json", (c) => c.json(buildOpenApiDocument(new URL(c.req.url).origin)));
  app.get("/swaggerui", (c) => c.html(SWAGGER_UI_PAGE));
  app.get("/swaggerui/:file", async (c) => {
    const file = c.req.param("file");
    if (!ASSET_NAME.test(file)) throw new ApiError("not_found", `No documentation asset ${file}`);
    if (!c.env.ASSETS)
      throw new ApiError("service_unavailable", "Swagger UI is not available (no ASSETS binding)");
    const res = await c.env.ASSETS.fetch(new Request(new URL(`/swaggerui/${file}`, "https://assets.local")));
    if (res.status === 404) {
      await res.body?.cancel();
      throw new ApiError("not_found", `No documentation asset ${file}; run \`npm run assets:build\``);
    }
    return res;
  });
}
