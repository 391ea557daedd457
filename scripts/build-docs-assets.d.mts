/** Where the Worker's /swaggerui/<file> assets are published by default (dist/public/swaggerui). */
export const DEFAULT_DOCS_DIR: string;
/** Copies Swagger UI (pinned swagger-ui-dist) and its initializer into `dir`; unchanged files are left alone. */
export function publishDocsAssets(dir?: string): Promise<{ dir: string; version: string; files: string[] }>;
