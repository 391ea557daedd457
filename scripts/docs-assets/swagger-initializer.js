// Starts Swagger UI on /swaggerui. A same-origin file, not an inline script, so the page's
// Content-Security-Policy needs no 'unsafe-inline' (workers/middleware/security-headers.ts).
window.addEventListener("load", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The default sends the document's URL to validator.swagger.io for a badge: never leave this origin.
    validatorUrl: null,
    // Keys typed into "Authorize" stay in this tab's memory only.
    persistAuthorization: false,
  });
});
