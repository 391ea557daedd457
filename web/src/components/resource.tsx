// The shape every list-and-edit view of the console shares (settings tabs, alert rules, channels):
// a paged list, actions that reload it and report their error, a table of columns and a create form.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { list, type Query } from "../api";
import { type Loaded, useLoad } from "../hooks";
import { ErrorBox, Pager, Table } from "./common";

export interface Resource<T> {
  rows: Loaded<{ data: T[]; pagination: import("../api").Pagination }>;
  page: number;
  setPage(page: number): void;
  error: unknown;
  /** Runs `work`, then reloads the list; false (and the error shown) when it failed. */
  act(work: () => Promise<unknown>): Promise<boolean>;
}

export function useResource<T>(path: string, query: Query = {}, pageSize = 50): Resource<T> {
  const [page, setPage] = useState(1);
  const key = JSON.stringify(query);
  const rows = useLoad(() => list<T>(path, { ...query, page, page_size: pageSize }), [path, key, page]);
  const [error, setError] = useState<unknown>(null);
  const act = async (work: () => Promise<unknown>): Promise<boolean> => {
    setError(null);
    try {
      await work();
      rows.reload();
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  };
  return { rows, page, setPage, error: rows.error ?? error, act };
}

export interface Column<T> {
  label: string;
  cell(row: T): ComponentChildren;
}

/** The error, a table with one row per item (or `empty`), and the pager. */
export function ResourceTable<T>({
  resource,
  caption,
  columns,
  rowKey,
  empty,
  rowProps,
}: {
  resource: Resource<T>;
  caption: string;
  columns: Column<T>[];
  rowKey(row: T): string | number;
  empty?: string;
  rowProps?: (row: T) => Record<string, string>;
}) {
  const data = resource.rows.data?.data;
  return (
    <>
      <ErrorBox error={resource.error} />
      <Table caption={caption}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.label}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data?.map((row) => (
            <tr key={rowKey(row)} {...rowProps?.(row)}>
              {columns.map((c) => (
                <td key={c.label}>{c.cell(row)}</td>
              ))}
            </tr>
          ))}
          {empty && data?.length === 0 && (
            <tr>
              <td colSpan={columns.length}>{empty}</td>
            </tr>
          )}
        </tbody>
      </Table>
      <Pager pagination={resource.rows.data?.pagination} onPage={resource.setPage} />
    </>
  );
}

/** A button that asks first, then runs its action through the resource. */
export function ConfirmButton({
  question,
  onConfirm,
  children,
  label,
}: {
  question: string;
  onConfirm(): Promise<unknown>;
  children: ComponentChildren;
  label?: string;
}) {
  return (
    <button type="button" aria-label={label} onClick={() => confirm(question) && void onConfirm()}>
      {children}
    </button>
  );
}

/** A create form: its submit button carries `label`; it resets when `onSubmit` did not answer false. */
export function CreateForm({
  label,
  onSubmit,
  children,
}: {
  label: string;
  onSubmit(f: FormData): Promise<unknown>;
  children: ComponentChildren;
}) {
  return (
    <form
      class="filters"
      aria-label={label}
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        if ((await onSubmit(new FormData(form))) !== false) form.reset();
      }}
    >
      {children}
      <button type="submit">{label}</button>
    </form>
  );
}

/** Comma-separated form input as a list. */
export const csv = (v: FormDataEntryValue | null) =>
  String(v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
