// The console page's inline script (web/index.html) starts the fleet page's nodes request before the
// console's code has loaded; web/src/first-load.ts uses it only when its URL is the one
// nodesRequest() builds for the view. These cases keep the two in step (a drift would not break the
// page, but would send the request twice and lose the head start the fleet render bench measures).
import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";

const html = readFileSync(new URL("../../../web/index.html", import.meta.url), "utf8");
const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1]);

/** Runs the inline script as the page would at `href`; answers the request it sent (or null). */
function early(href: string, token: string | null = "k") {
  const sent: { url: string; headers: Record<string, string> }[] = [];
  const window: Record<string, any> = {};
  const url = new URL(href, "http://console.test");
  runInNewContext(inline[0], {
    window,
    location: { pathname: url.pathname, search: url.search },
    sessionStorage: { getItem: (k: string) => (k === "outpost.console.token" ? token : null) },
    URLSearchParams,
    Promise,
    fetch: (u: string, init: { headers: Record<string, string> }) => {
      sent.push({ url: u, headers: init.headers });
      return new Promise(() => undefined);
    },
  });
  return { holder: window.__outpostEarlyNodes as { url: string } | undefined, sent };
}

let nodesUrl: (href: string) => string;
beforeAll(async () => {
  // api.ts reads the stored credential when loaded.
  (globalThis as any).sessionStorage = { getItem: () => null, setItem() {}, removeItem() {} };
  // By a computed path: the web app is type-checked by web/tsconfig.json (DOM types), not this project's.
  const fleetQuery = "../../../web/src/fleet-query";
  const { nodesRequest, pick, VIEW } = await import(/* @vite-ignore */ fleetQuery);
  nodesUrl = (href) => {
    const query = Object.fromEntries(new URL(href, "http://console.test").searchParams);
    return nodesRequest(pick(query, VIEW));
  };
});

describe("the console page's early nodes request", () => {
  it("is the page's only inline script", () => {
    expect(inline).toHaveLength(1);
  });

  for (const href of [
    "/console",
    "/console/",
    "/console/?page_size=100",
    "/console?status=healthy&tags=web,env:prod&order_by=hostname&order_directions=desc&page=3",
    "/console?page_size=50&hostname=web-*&cluster_name=edge%20one&status=",
    "/console?tags=a&tags=b&unknown=1&version=1.2.3&platform=linux",
  ]) {
    it(`asks what nodesRequest() asks for ${href}`, () => {
      const { holder, sent } = early(href);
      expect(sent).toHaveLength(1);
      expect(sent[0].url).toBe(nodesUrl(href));
      expect(holder?.url).toBe(sent[0].url);
      expect(sent[0].headers.Authorization).toBe("Bearer k");
    });
  }

  it("sends nothing without a stored credential or on another page", () => {
    expect(early("/console", null).sent).toEqual([]);
    expect(early("/console/run").sent).toEqual([]);
    expect(early("/console/nodes/abc").sent).toEqual([]);
  });
});
