const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header; null when the header is missing or has
 * another shape. Shared by the API-key check and the node-token middleware.
 * @example bearerToken(c.req.header("authorization"))
 */
export function bearerToken(header: string | undefined): string | null {
  return BEARER.exec(header ?? "")?.[1] ?? null;
}
