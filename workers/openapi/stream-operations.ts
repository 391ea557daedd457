import { listOperations, type OperationSpec } from "./registry";

function matches(template: string, path: string): boolean {
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{\w+\}/g, "[^/]+");
  return new RegExp(`^${pattern}$`).test(path);
}

/** The Server-Sent Events operation serving `path` (a concrete path), if any. */
export function findStreamOperation(path: string): OperationSpec | undefined {
  return listOperations().find(
    (op) => op.method === "get" && op.success.eventStream === true && matches(op.path, path),
  );
}
