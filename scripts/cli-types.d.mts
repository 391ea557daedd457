/** cli/api-types.ts, absolute. */
export const API_TYPES_FILE: string;
/** The OpenAPI document of the current route table. */
export function openApiDocument(): Promise<Record<string, unknown>>;
/** The text of cli/api-types.ts for the current route table. */
export function generateApiTypes(): Promise<string>;
