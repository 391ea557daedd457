// The fleet table's rows are one innerHTML (web/src/pages/fleet-rows.ts): every value from the API is
// escaped, tag buttons carry their tag for the table's click handler, and metrics have their cells.
import { describe, expect, it } from "vitest";

// common.tsx (pct, when) loads api.ts, which reads the stored credential when loaded.
(globalThis as any).sessionStorage ??= { getItem: () => null, setItem() {}, removeItem() {} };
// By a computed path: the web app is type-checked by web/tsconfig.json (DOM types), not this project's.
const rowsModule = "../../../web/src/pages/fleet-rows";
const { rowsHtml, escapeHtml } = await import(/* @vite-ignore */ rowsModule);

const node = {
  id: "3f1c2b9e-0000-4000-8000-000000000001",
  node_name: "node-1",
  display_name: null,
  hostname: `<img src=x onerror="alert(1)">`,
  cluster_name: "edge & co",
  status: "healthy",
  tags: [`env:"prod"`, "web"],
  os_version: "Debian 12",
  platform: "linux",
  arch: "x64",
  version: "0.1.0",
  last_seen_at: null,
};

describe("fleet rows", () => {
  it("escapes every value and keeps the columns", () => {
    const html: string = rowsHtml([node], { [node.id]: { cpu: 12.34 } });
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(html).toContain("edge &amp; co");
    expect(html).toContain(`data-tag="env:&quot;prod&quot;"`);
    expect(html).toContain(`href="/console/nodes/${node.id}"`);
    expect(html).toContain('<td data-metric="cpu">12.3%</td>');
    expect(html).toContain('<td data-metric="memory">—</td>');
    expect(html.match(/<td/g)).toHaveLength(11);
  });

  it("says when no node matches", () => {
    expect(rowsHtml([])).toBe('<tr><td colspan="11">No node matches.</td></tr>');
    expect(escapeHtml(`'&'`)).toBe("&#39;&amp;&#39;");
  });
});
