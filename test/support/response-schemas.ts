/**
 * Holds successful answers to the OpenAPI document: the body of every 2xx must validate against
 * the schema the document gives for that operation, status and content type. The integration
 * harness and the fuzzer both call it, so a presenter that drifts from the documented response
 * fails a test even where TypeScript cannot see it (a cast, a JSON column, a value out of range).
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

type JsonSchema = Record<string, unknown>;
/** An OpenAPI response's `content`: media type → `{schema}`. */
export type ResponseContent = Record<string, { schema?: JsonSchema }>;
/** An OpenAPI operation object, as far as this check reads it. */
export interface DocumentedOperation {
  responses?: Record<string, { content?: ResponseContent }>;
}
/** The parts of an OpenAPI document this check reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, DocumentedOperation>>;
}

const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function validatorFor(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * Compiles the JSON schemas of an operation's successful responses ahead of use, so the first answer checked
 * does not pay for it (the fuzzer gives a parameterless read only 150 ms).
 */
export function precompileResponses(responses: Record<string, { content?: ResponseContent }>): void {
  for (const [status, response] of Object.entries(responses)) {
    // Only successes are checked here; error bodies $ref the shared ErrorResponse, held by other checks.
    if (!status.startsWith("2")) continue;
    const schema = response.content?.["application/json"]?.schema;
    if (schema) validatorFor(schema);
  }
}

/** Violations of `schema` by `value`, one line each (empty when it validates). */
export function schemaProblems(schema: JsonSchema, value: unknown): string[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "(body)"} ${e.message ?? "is invalid"}`);
}

/**
 * Problems of one successful body against the documented `content` of its status: the media type
 * must be documented, and a JSON body must validate. Event streams are checked for their media type only.
 */
export function contentProblems(
  content: ResponseContent | undefined,
  contentType: string | null,
  text: string | null,
): string[] {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!content) return text ? [`a body (${type || "no content-type"}) where none is documented`] : [];
  const documented = content[type];
  if (!documented)
    return [`content-type ${type || "(none)"} is not documented (${Object.keys(content).join(", ")})`];
  if (type !== "application/json" || !documented.schema || text === null) return [];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return ["success body is not JSON"];
  }
  return schemaProblems(documented.schema, body).map((p) => `response schema: ${p}`);
}

function templateRegex(path: string): RegExp {
  const escaped = path
    .split(/\{\w+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]+");
  return new RegExp(`^${escaped}$`);
}

const templates = new WeakMap<OpenApiDocument, [string, RegExp][]>();

/**
 * The documented operation a concrete path reaches: the matching template with the fewest
 * parameters, as the router prefers `/admins/me` to `/admins/{id}`.
 */
export function documentedOperation(
  doc: OpenApiDocument,
  method: string,
  url: string,
): { path: string; operation: DocumentedOperation } | undefined {
  let compiledPaths = templates.get(doc);
  if (!compiledPaths) {
    compiledPaths = Object.keys(doc.paths).map((p) => [p, templateRegex(p)]);
    templates.set(doc, compiledPaths);
  }
  const pathname = url.split("?")[0] ?? url;
  const matches = compiledPaths
    .filter(([path, re]) => re.test(pathname) && doc.paths[path]?.[method.toLowerCase()])
    .map(([path]) => path)
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  const path = matches[0];
  const operation = path ? doc.paths[path]?.[method.toLowerCase()] : undefined;
  return path && operation ? { path, operation } : undefined;
}

/**
 * Problems of a 2xx answer to `method url` against the document (empty for other statuses and for
 * routes the document does not describe).
 */
export function documentedResponseProblems(
  doc: OpenApiDocument,
  method: string,
  url: string,
  status: number,
  contentType: string | null,
  text: string | null,
): string[] {
  if (status < 200 || status >= 300) return [];
  const found = documentedOperation(doc, method, url);
  if (!found) return [];
  const response = found.operation.responses?.[String(status)];
  if (!response) return [`status ${status} is not documented for ${method} ${found.path}`];
  return contentProblems(response.content, contentType, status === 204 ? null : text).map(
    (p) => `${method} ${found.path} ${status}: ${p}`,
  );
}
