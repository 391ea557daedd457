import { useState } from "preact/hooks";
import { ApiError, send } from "../api";
import { ErrorBox, Status, when } from "../components/common";
import { ConfirmButton, CreateForm, csv, ResourceTable, useResource } from "../components/resource";
import type { ChannelTestResult, NotificationChannel, NotificationChannelInput } from "../schema";

const TYPES: NotificationChannelInput["type"][] = [
  "slack",
  "discord",
  "teams",
  "ntfy",
  "pagerduty",
  "email",
  "webhook",
];

// What each type needs, as a starting point for the settings box; the server checks it field by field.
const EXAMPLES: Record<NotificationChannelInput["type"], string> = {
  slack: '{"webhook_url": "https://hooks.slack.com/services/…"}',
  discord: '{"webhook_url": "https://discord.com/api/webhooks/…"}',
  teams: '{"webhook_url": "https://….webhook.office.com/…"}',
  ntfy: '{"topic": "outpost-alerts"}',
  pagerduty: '{"routing_key": "…"}',
  email: '{"provider": "resend", "api_key": "…", "from": "outpost@example.com", "to": ["ops@example.com"]}',
  webhook: '{"url": "https://example.com/hook", "secret": "at least 32 bytes of secret …………"}',
};

function parseConfig(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text || "{}");
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // reported below, in the API's own error shape
  }
  throw new ApiError(400, "bad_request", "Invalid settings", { config: ["must be a JSON object"] }, null);
}

function TestOutcome({ result }: { result: ChannelTestResult | null }) {
  if (!result) return null;
  return (
    <p role="status" data-testid="channel-test-result">
      Test delivery <Status value={result.status} />
      {result.last_status_code !== null && ` (HTTP ${result.last_status_code})`}
      {result.last_error && `: ${result.last_error}`}
    </p>
  );
}

/** Notification channels: list, enable/disable, test send, delete, and a create form. */
export function Channels() {
  const r = useResource<NotificationChannel>("/api/v1/notification_channels");
  const [type, setType] = useState<NotificationChannelInput["type"]>("webhook");
  const [tested, setTested] = useState<ChannelTestResult | null>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const test = async (c: NotificationChannel) => {
    setTested(null);
    setTestError(null);
    try {
      setTested(await send<ChannelTestResult>("POST", `/api/v1/notification_channels/${c.id}/test`));
    } catch (err) {
      setTestError(err);
    }
  };
  return (
    <>
      <ErrorBox error={testError} />
      <TestOutcome result={tested} />
      <ResourceTable
        resource={r}
        caption="Notification channels"
        rowKey={(c) => c.id}
        empty="No notification channel."
        columns={[
          { label: "Name", cell: (c) => c.name },
          { label: "Type", cell: (c) => c.type },
          {
            label: "Events",
            cell: (c) => <small>{c.subscribed_events.join(", ") || "alerts only"}</small>,
          },
          { label: "Updated", cell: (c) => when(c.updated_at) },
          {
            label: "Enabled",
            cell: (c) => (
              <label>
                <input
                  type="checkbox"
                  checked={c.enabled}
                  onChange={() =>
                    r.act(() =>
                      send("PATCH", `/api/v1/notification_channels/${c.id}`, { enabled: !c.enabled }),
                    )
                  }
                />
                <span class="sr-only">Enable {c.name}</span>
              </label>
            ),
          },
          {
            label: "Actions",
            cell: (c) => (
              <>
                <button type="button" aria-label={`Send a test to ${c.name}`} onClick={() => test(c)}>
                  Test
                </button>{" "}
                <ConfirmButton
                  question={`Delete channel ${c.name}?`}
                  label={`Delete ${c.name}`}
                  onConfirm={() => r.act(() => send("DELETE", `/api/v1/notification_channels/${c.id}`))}
                >
                  Delete
                </ConfirmButton>
              </>
            ),
          },
        ]}
      />
      <CreateForm
        label="Add channel"
        onSubmit={(f) =>
          r.act(() => {
            const body: NotificationChannelInput = {
              name: String(f.get("name")),
              type,
              config: parseConfig(String(f.get("config") ?? "")),
              subscribed_events: csv(f.get("events")) as NotificationChannelInput["subscribed_events"],
            };
            return send("POST", "/api/v1/notification_channels", body);
          })
        }
      >
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Type
          <select
            name="type"
            value={type}
            onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value as typeof type)}
          >
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Settings (JSON)
          <textarea name="config" rows={2} required placeholder={EXAMPLES[type]} />
        </label>
        <label>
          Other events (comma-separated)
          <input name="events" placeholder="edge.node.unreachable" />
        </label>
      </CreateForm>
    </>
  );
}
