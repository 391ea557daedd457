import type { ComponentChildren } from "preact";
import { ApiError, isMissingRoute, type Pagination } from "../api";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (isMissingRoute(error)) return <p class="notice">Not available on this server.</p>;
  const e = error as Partial<ApiError> & { message?: string };
  return (
    <div class="error" role="alert">
      <strong>{e.message ?? String(error)}</strong>
      {e instanceof ApiError && e.details && (
        <ul>
          {Object.entries(e.details).map(([field, messages]) => (
            <li key={field}>
              {field}: {messages.join(", ")}
            </li>
          ))}
        </ul>
      )}
      {e instanceof ApiError && e.requestId && <small> (request {e.requestId})</small>}
    </div>
  );
}

export function Pager({ pagination, onPage }: { pagination?: Pagination; onPage(page: number): void }) {
  if (!pagination) return null;
  const { page, total_pages, total_count, has_prev, has_next } = pagination;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={!has_prev} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span aria-live="polite">
        Page {page} of {Math.max(total_pages, 1)} ({total_count} total)
      </span>
      <button type="button" disabled={!has_next} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

export function Status({ value }: { value: string | null | undefined }) {
  return <span class={`badge badge-${value ?? "unknown"}`}>{value ?? "—"}</span>;
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card" aria-label={title}>
      <header class="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

// One formatter for every date on a page: toLocaleString() builds a new one per call, a cost paid
// once per row of a 100-row table.
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_TIME.format(d);
}

export function pct(value: number | null | undefined): string {
  return typeof value === "number" ? `${value.toFixed(1)}%` : "—";
}

/** A table that scrolls sideways on a narrow screen instead of squeezing its columns. */
export function Table({ caption, children }: { caption: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{caption}</caption>
        {children}
      </table>
    </div>
  );
}

export function Tabs<T extends string>({
  tabs,
  current,
  onSelect,
  label,
  name = (tab) => tab,
}: {
  tabs: readonly T[];
  current: T;
  onSelect(tab: T): void;
  label: string;
  name?: (tab: T) => string;
}) {
  // Arrow keys move between tabs, as the ARIA tab pattern expects.
  const onKey = (e: KeyboardEvent) => {
    const i = tabs.indexOf(current);
    const next =
      e.key === "ArrowRight"
        ? tabs[(i + 1) % tabs.length]
        : e.key === "ArrowLeft"
          ? tabs[(i - 1 + tabs.length) % tabs.length]
          : null;
    if (next) {
      e.preventDefault();
      onSelect(next);
      (e.currentTarget as HTMLElement).querySelector<HTMLElement>(`[data-tab="${next}"]`)?.focus();
    }
  };
  return (
    <div role="tablist" aria-label={label} class="tabs" onKeyDown={onKey}>
      {tabs.map((tab) => (
        <button
          type="button"
          role="tab"
          key={tab}
          data-tab={tab}
          aria-selected={tab === current}
          tabIndex={tab === current ? 0 : -1}
          onClick={() => onSelect(tab)}
        >
          {name(tab)}
        </button>
      ))}
    </div>
  );
}
