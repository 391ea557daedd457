// The filter form the list pages share (fleet, audit log, node logs): labelled fields in a row, read
// on submit as trimmed strings (empty ones left out), with one or more submit buttons. The fields are
// uncontrolled: give the form a `key` to re-create it when its values come from elsewhere (the URL).
import type { ComponentChildren } from "preact";

export interface FilterField {
  name: string;
  label: string;
  placeholder?: string;
  /** A select's choices as [value, label]; a text input when absent. */
  options?: readonly (readonly [string, string])[];
}

export function FilterForm({
  label,
  fields,
  values = {},
  actions = [["", "Filter"]],
  onFilter,
  children,
}: {
  label: string;
  fields: readonly FilterField[];
  /** The fields' initial values. */
  values?: Record<string, string | undefined>;
  /** Submit buttons as [value, label]; `onFilter` learns which one was pressed. */
  actions?: readonly (readonly [string, string])[];
  onFilter(values: Record<string, string>, action: string): void;
  /** After the submit buttons (e.g. a Stop button). */
  children?: ComponentChildren;
}) {
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const out: Record<string, string> = {};
    for (const f of fields) {
      const v = String(form.get(f.name) ?? "").trim();
      if (v) out[f.name] = v;
    }
    onFilter(out, (e as SubmitEvent).submitter?.getAttribute("value") ?? "");
  };
  return (
    <form class="filters" aria-label={label} onSubmit={submit}>
      {fields.map((f) =>
        f.options ? (
          <label key={f.name}>
            {f.label}
            <select name={f.name}>
              {f.options.map(([value, text]) => (
                <option key={value} value={value} selected={(values[f.name] ?? "") === value}>
                  {text}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label key={f.name}>
            {f.label}
            <input name={f.name} defaultValue={values[f.name] ?? ""} placeholder={f.placeholder} />
          </label>
        ),
      )}
      {actions.map(([value, text]) => (
        <button key={value || text} type="submit" value={value}>
          {text}
        </button>
      ))}
      {children}
    </form>
  );
}
