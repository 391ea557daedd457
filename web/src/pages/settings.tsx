import { useState } from "preact/hooks";
import { ApiError, isMissingRoute, send } from "../api";
import { Section, Tabs, when } from "../components/common";
import { ConfirmButton, CreateForm, csv, ResourceTable, useResource } from "../components/resource";
import type { ApiToken, Cluster, EnrollmentKey, Role, User, Webhook } from "../schema";
import { Channels } from "./channels";

const TABS = [
  "Clusters",
  "Users",
  "Roles",
  "API tokens",
  "Webhooks",
  "Notification channels",
  "Enrollment keys",
] as const;
type Tab = (typeof TABS)[number];

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
  const r = useResource<User>("/api/v1/users");
  return (
    <>
      <ResourceTable
        resource={r}
        caption="Users"
        rowKey={(u) => u.id}
        columns={[
          { label: "Username", cell: (u) => u.username },
          { label: "Email", cell: (u) => u.email ?? "—" },
          { label: "Roles", cell: (u) => u.roles.join(", ") },
          { label: "Last login", cell: (u) => when(u.last_login_at) },
          {
            label: "State",
            cell: (u) =>
              u.disabled ? "disabled" : u.locked_until ? `locked until ${when(u.locked_until)}` : "active",
          },
          {
            label: "Actions",
            cell: (u) => (
              <>
                {u.locked_until && (
                  <button
                    type="button"
                    onClick={() => r.act(() => send("PATCH", `/api/v1/users/${u.id}/unlock`))}
                  >
                    Unlock
                  </button>
                )}{" "}
                {!u.disabled && (
                  <ConfirmButton
                    question={`Disable ${u.username}?`}
                    onConfirm={() => r.act(() => send("DELETE", `/api/v1/users/${u.id}`))}
                  >
                    Disable
                  </ConfirmButton>
                )}
              </>
            ),
          },
        ]}
      />
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
  const r = useResource<Role>("/api/v1/roles");
  return (
    <>
      <ResourceTable
        resource={r}
        caption="Roles"
        rowKey={(role) => role.id}
        columns={[
          {
            label: "Name",
            cell: (role) => (
              <>
                {role.name} {role.is_system && <small>(system)</small>}
              </>
            ),
          },
          { label: "Description", cell: (role) => role.description ?? "—" },
          { label: "Permissions", cell: (role) => <small>{role.permissions.join(", ")}</small> },
          { label: "Users", cell: (role) => role.user_count },
          {
            label: "Actions",
            cell: (role) =>
              !role.is_system && (
                <ConfirmButton
                  question={`Delete role ${role.name}?`}
                  onConfirm={() => r.act(() => send("DELETE", `/api/v1/roles/${role.id}`))}
                >
                  Delete
                </ConfirmButton>
              ),
          },
        ]}
      />
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
  const r = useResource<ApiToken>("/api/v1/api_tokens");
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <>
      <Secret value={secret} onClose={() => setSecret(null)} label="New token" />
      <ResourceTable
        resource={r}
        caption="API tokens"
        rowKey={(t) => t.id}
        columns={[
          { label: "Name", cell: (t) => t.name },
          { label: "Prefix", cell: (t) => <code>{t.prefix}</code> },
          { label: "Scopes", cell: (t) => <small>{t.scopes.join(", ")}</small> },
          { label: "Expires", cell: (t) => when(t.expires_at) },
          { label: "Last used", cell: (t) => when(t.last_used_at) },
          {
            label: "Actions",
            cell: (t) =>
              t.revoked ? (
                "revoked"
              ) : (
                <ConfirmButton
                  question={`Revoke ${t.name}?`}
                  onConfirm={() => r.act(() => send("DELETE", `/api/v1/api_tokens/${t.id}`))}
                >
                  Revoke
                </ConfirmButton>
              ),
          },
        ]}
      />
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
  const r = useResource<Webhook>("/api/v1/webhooks");
  return (
    <>
      <ResourceTable
        resource={r}
        caption="Webhooks"
        rowKey={(w) => w.id}
        columns={[
          { label: "URL", cell: (w) => w.url },
          { label: "Events", cell: (w) => <small>{w.subscribed_events.join(", ")}</small> },
          { label: "Created", cell: (w) => when(w.inserted_at) },
          {
            label: "Actions",
            cell: (w) => (
              <ConfirmButton
                question={`Delete webhook ${w.url}?`}
                onConfirm={() => r.act(() => send("DELETE", `/api/v1/webhooks/${w.id}`))}
              >
                Delete
              </ConfirmButton>
            ),
          },
        ]}
      />
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
  const r = useResource<EnrollmentKey>("/api/v1/enrollment_keys");
  const [command, setCommand] = useState<string | null>(null);
  return (
    <>
      <Secret value={command} onClose={() => setCommand(null)} label="Install command" />
      <ResourceTable
        resource={r}
        caption="Enrollment keys"
        rowKey={(k) => k.id}
        columns={[
          { label: "Name", cell: (k) => k.name ?? "—" },
          { label: "Cluster", cell: (k) => k.cluster_name },
          { label: "Uses left", cell: (k) => k.uses_remaining ?? "unlimited" },
          { label: "Expires", cell: (k) => when(k.expired_at) },
          { label: "Last used", cell: (k) => when(k.last_used_at) },
          {
            label: "Actions",
            cell: (k) => (
              <>
                <button type="button" onClick={() => r.act(async () => setCommand(await installCommand(k)))}>
                  Install command
                </button>{" "}
                <ConfirmButton
                  question="Delete this key?"
                  onConfirm={() => r.act(() => send("DELETE", `/api/v1/enrollment_keys/${k.id}`))}
                >
                  Delete
                </ConfirmButton>
              </>
            ),
          },
        ]}
      />
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

/**
 * Clusters: the first thing a new fleet needs (an enrollment key names one), so a first setup is done
 * from the console alone. Deleting one that still has nodes is refused by the server (its message shows).
 */
function Clusters() {
  const r = useResource<Cluster>("/api/v1/clusters");
  return (
    <>
      <ResourceTable
        resource={r}
        caption="Clusters"
        rowKey={(c) => c.id}
        columns={[
          { label: "Name", cell: (c) => c.name },
          {
            label: "Nodes",
            cell: (c) => (c.node_limit ? `${c.node_count} of ${c.node_limit}` : c.node_count),
          },
          { label: "Address range", cell: (c) => c.ipv4_range },
          { label: "Created", cell: (c) => when(c.inserted_at) },
          {
            label: "Actions",
            cell: (c) => (
              <ConfirmButton
                question={`Delete cluster ${c.name}?`}
                onConfirm={() =>
                  r.act(() => send("DELETE", `/api/v1/clusters/${encodeURIComponent(c.name)}`))
                }
              >
                Delete
              </ConfirmButton>
            ),
          },
        ]}
      />
      <CreateForm
        label="Create cluster"
        onSubmit={(f) =>
          r.act(() => {
            const range = String(f.get("range") ?? "").trim();
            const limit = String(f.get("limit") ?? "");
            return send("POST", "/api/v1/clusters", {
              name: String(f.get("name") ?? "").trim(),
              ...(range ? { ipv4_range: range } : {}),
              ...(limit ? { node_limit: Number(limit) } : {}),
            });
          })
        }
      >
        <label>
          Name
          <input
            name="name"
            required
            maxLength={24}
            pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?"
            placeholder="edge"
          />
        </label>
        <label>
          Address range (empty: chosen for you)
          <input name="range" placeholder="10.64.0.0/16" />
        </label>
        <label>
          Node limit
          <input name="limit" type="number" min={1} />
        </label>
      </CreateForm>
    </>
  );
}

export function SettingsPage() {
  const [tab, setTab] = useState<Tab>("Clusters");
  return (
    <>
      <h1>Settings</h1>
      <Section title="Settings">
        <Tabs<Tab> tabs={TABS} current={tab} onSelect={setTab} label="Settings sections" />
        <div role="tabpanel" aria-label={tab} class="panel">
          {tab === "Clusters" && <Clusters />}
          {tab === "Users" && <Users />}
          {tab === "Roles" && <Roles />}
          {tab === "API tokens" && <ApiTokens />}
          {tab === "Webhooks" && <Webhooks />}
          {tab === "Notification channels" && <Channels />}
          {tab === "Enrollment keys" && <EnrollmentKeys />}
        </div>
      </Section>
    </>
  );
}
