import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, isMissingRoute, list, send } from "../api";
import { ErrorBox, Pager, Section, Table, Tabs, when } from "../components/common";
import { useLoad } from "../hooks";

const TABS = ["Users", "Roles", "API tokens", "Webhooks", "Enrollment keys"] as const;
type Tab = (typeof TABS)[number];

const csv = (v: FormDataEntryValue | null) =>
  String(v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A listed resource with a create form: the shape every settings tab shares. */
function useResource<T>(path: string, query: Record<string, string> = {}) {
  const [page, setPage] = useState(1);
  const rows = useLoad(() => list<T>(path, { ...query, page, page_size: 50 }), [path, page]);
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

function CreateForm({
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

/** A secret the server shows once: displayed until dismissed, never stored. */
function Secret({ value, onClose, label }: { value: string | null; onClose(): void; label: string }) {
  if (!value) return null;
  return (
    <div class="secret" role="status">
      <p>{label} (shown once):</p>
      <pre class="output">{value}</pre>
      <button type="button" onClick={() => navigator.clipboard?.writeText(value)}>
        Copy
      </button>{" "}
      <button type="button" onClick={onClose}>
        Done
      </button>
    </div>
  );
}

function Users() {
  const r = useResource<any>("/api/v1/users");
  return (
    <>
      <ErrorBox error={r.error} />
      <Table caption="Users">
        <thead>
          <tr>
            <th>Username</th>
            <th>Email</th>
            <th>Roles</th>
            <th>Last login</th>
            <th>State</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {r.rows.data?.data.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{u.email ?? "—"}</td>
              <td>{u.roles.join(", ")}</td>
              <td>{when(u.last_login_at)}</td>
              <td>
                {u.disabled ? "disabled" : u.locked_until ? `locked until ${when(u.locked_until)}` : "active"}
              </td>
              <td>
                {u.locked_until && (
                  <button
                    type="button"
                    onClick={() => r.act(() => send("PATCH", `/api/v1/users/${u.id}/unlock`))}
                  >
                    Unlock
                  </button>
                )}{" "}
                {!u.disabled && (
                  <button
                    type="button"
                    onClick={() =>
                      confirm(`Disable ${u.username}?`) &&
                      r.act(() => send("DELETE", `/api/v1/users/${u.id}`))
                    }
                  >
                    Disable
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Pager pagination={r.rows.data?.pagination} onPage={r.setPage} />
      <CreateForm
        label="Add user"
        onSubmit={(f) =>
          r.act(() =>
            send("POST", "/api/v1/users", {
              username: String(f.get("username")),
              password: String(f.get("password")),
              email: String(f.get("email") ?? "") || null,
              roles: csv(f.get("Roles")),
            }),
          )
        }
      >
        <label>
          Username
          <input name="username" required autocomplete="off" />
        </label>
        <label>
          Password
          <input name="password" type="password" required autocomplete="new-password" />
        </label>
        <label>
          Email
          <input name="email" type="email" />
        </label>
        <label>
          Roles (comma-separated)
          <input name="Roles" placeholder="operator" />
        </label>
      </CreateForm>
    </>
  );
}

function Roles() {
  const r = useResource<any>("/api/v1/roles");
  return (
    <>
      <ErrorBox error={r.error} />
      <Table caption="Roles">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Permissions</th>
            <th>Users</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {r.rows.data?.data.map((role) => (
            <tr key={role.id}>
              <td>
                {role.name} {role.is_system && <small>(system)</small>}
              </td>
              <td>{role.description ?? "—"}</td>
              <td>
                <small>{role.permissions.join(", ")}</small>
              </td>
              <td>{role.user_count}</td>
              <td>
                {!role.is_system && (
                  <button
                    type="button"
                    onClick={() =>
                      confirm(`Delete role ${role.name}?`) &&
                      r.act(() => send("DELETE", `/api/v1/roles/${role.id}`))
                    }
                  >
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <CreateForm
        label="Add role"
        onSubmit={(f) =>
          r.act(() =>
            send("POST", "/api/v1/roles", {
              name: String(f.get("name")),
              description: String(f.get("description") ?? "") || null,
              permissions: csv(f.get("permissions")),
            }),
          )
        }
      >
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Description
          <input name="description" />
        </label>
        <label>
          Permissions (comma-separated)
          <input name="permissions" placeholder="nodes:read,commands:write" required />
        </label>
      </CreateForm>
    </>
  );
}

function ApiTokens() {
  const r = useResource<any>("/api/v1/api_tokens");
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <>
      <ErrorBox error={r.error} />
      <Secret value={secret} onClose={() => setSecret(null)} label="New token" />
      <Table caption="API tokens">
        <thead>
          <tr>
            <th>Name</th>
            <th>Prefix</th>
            <th>Scopes</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {r.rows.data?.data.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>
                <code>{t.prefix}</code>
              </td>
              <td>
                <small>{t.scopes.join(", ")}</small>
              </td>
              <td>{when(t.expires_at)}</td>
              <td>{when(t.last_used_at)}</td>
              <td>
                {t.revoked ? (
                  "revoked"
                ) : (
                  <button
                    type="button"
                    onClick={() =>
                      confirm(`Revoke ${t.name}?`) &&
                      r.act(() => send("DELETE", `/api/v1/api_tokens/${t.id}`))
                    }
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Pager pagination={r.rows.data?.pagination} onPage={r.setPage} />
      <CreateForm
        label="Create token"
        onSubmit={(f) =>
          r.act(async () => {
            const expires = String(f.get("expires_at") ?? "");
            const created = await send<{ token: string }>("POST", "/api/v1/api_tokens", {
              name: String(f.get("name")),
              scopes: csv(f.get("scopes")),
              cluster_names: csv(f.get("clusters")).length ? csv(f.get("clusters")) : null,
              expires_at: expires ? new Date(expires).toISOString() : null,
            });
            setSecret(created.token);
          })
        }
      >
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Scopes (comma-separated)
          <input name="scopes" placeholder="nodes:read" required />
        </label>
        <label>
          Clusters (optional)
          <input name="clusters" />
        </label>
        <label>
          Expires
          <input name="expires_at" type="datetime-local" />
        </label>
      </CreateForm>
    </>
  );
}

function Webhooks() {
  const r = useResource<any>("/api/v1/webhooks");
  return (
    <>
      <ErrorBox error={r.error} />
      <Table caption="Webhooks">
        <thead>
          <tr>
            <th>URL</th>
            <th>Events</th>
            <th>Created</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {r.rows.data?.data.map((w) => (
            <tr key={w.id}>
              <td>{w.url}</td>
              <td>
                <small>{w.subscribed_events.join(", ")}</small>
              </td>
              <td>{when(w.inserted_at)}</td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    confirm(`Delete webhook ${w.url}?`) &&
                    r.act(() => send("DELETE", `/api/v1/webhooks/${w.id}`))
                  }
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Pager pagination={r.rows.data?.pagination} onPage={r.setPage} />
      <CreateForm
        label="Add webhook"
        onSubmit={(f) =>
          r.act(() =>
            send("POST", "/api/v1/webhooks", {
              url: String(f.get("url")),
              secret: String(f.get("secret")),
              subscribed_events: csv(f.get("events")),
            }),
          )
        }
      >
        <label>
          URL
          <input name="url" type="url" required />
        </label>
        <label>
          Signing secret
          <input name="secret" type="password" required autocomplete="off" />
        </label>
        <label>
          Events (comma-separated)
          <input name="events" placeholder="edge.alert.fired" required />
        </label>
      </CreateForm>
    </>
  );
}

/** The server's install command when it has the route; else the documented one-liner (key in the environment). */
async function installCommand(key: { id: string; key: string }): Promise<string> {
  try {
    const { command } = await send<{ command: string }>(
      "POST",
      `/api/v1/enrollment_keys/${key.id}/install_command`,
    );
    return command;
  } catch (err) {
    if (!(isMissingRoute(err) || (err instanceof ApiError && err.status === 404))) throw err;
    return `curl -fsSL ${location.origin}/install.sh | sudo ENROLLMENT_KEY='${key.key}' sh`;
  }
}

function EnrollmentKeys() {
  const r = useResource<any>("/api/v1/enrollment_keys");
  const [command, setCommand] = useState<string | null>(null);
  return (
    <>
      <ErrorBox error={r.error} />
      <Secret value={command} onClose={() => setCommand(null)} label="Install command" />
      <Table caption="Enrollment keys">
        <thead>
          <tr>
            <th>Name</th>
            <th>Cluster</th>
            <th>Uses left</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {r.rows.data?.data.map((k) => (
            <tr key={k.id}>
              <td>{k.name ?? "—"}</td>
              <td>{k.cluster_name}</td>
              <td>{k.uses_remaining ?? "unlimited"}</td>
              <td>{when(k.expired_at)}</td>
              <td>{when(k.last_used_at)}</td>
              <td>
                <button type="button" onClick={() => r.act(async () => setCommand(await installCommand(k)))}>
                  Install command
                </button>{" "}
                <button
                  type="button"
                  onClick={() =>
                    confirm("Delete this key?") &&
                    r.act(() => send("DELETE", `/api/v1/enrollment_keys/${k.id}`))
                  }
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Pager pagination={r.rows.data?.pagination} onPage={r.setPage} />
      <CreateForm
        label="Create key"
        onSubmit={(f) =>
          r.act(async () => {
            const cluster = String(f.get("cluster") ?? "").trim();
            const uses = String(f.get("uses") ?? "");
            const expires = String(f.get("expires") ?? "");
            const key = await send<{ id: string; key: string }>(
              "POST",
              cluster
                ? `/api/v1/clusters/${encodeURIComponent(cluster)}/enrollment_keys`
                : "/api/v1/clusters/default/enrollment_keys",
              {
                name: String(f.get("name") ?? "") || null,
                uses_remaining: uses ? Number(uses) : null,
                expired_at: expires ? new Date(expires).toISOString() : null,
              },
            );
            setCommand(await installCommand(key));
          })
        }
      >
        <label>
          Name
          <input name="name" />
        </label>
        <label>
          Cluster (empty: default)
          <input name="cluster" />
        </label>
        <label>
          Uses
          <input name="uses" type="number" min={1} />
        </label>
        <label>
          Expires
          <input name="expires" type="datetime-local" />
        </label>
      </CreateForm>
    </>
  );
}

export function SettingsPage() {
  const [tab, setTab] = useState<Tab>("Users");
  return (
    <>
      <h1>Settings</h1>
      <Section title="Settings">
        <Tabs<Tab> tabs={TABS} current={tab} onSelect={setTab} label="Settings sections" />
        <div role="tabpanel" aria-label={tab} class="panel">
          {tab === "Users" && <Users />}
          {tab === "Roles" && <Roles />}
          {tab === "API tokens" && <ApiTokens />}
          {tab === "Webhooks" && <Webhooks />}
          {tab === "Enrollment keys" && <EnrollmentKeys />}
        </div>
      </Section>
    </>
  );
}
