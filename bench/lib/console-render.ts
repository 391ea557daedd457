// 9. The console's fleet page with a large fleet (issue 22): the first page of 100 rows must render in
// under 1.5× the time of the API call it makes. N nodes (default 1,000, --quick 300: the machine is
// shared; the size is `--console-nodes 10000`) are inserted straight into libSQL, then Chromium
// opens /console/?page_size=100 several times (one warm-up load first). For each load:
//   numerator   = navigation start → the page's `outpost:fleet-rows` mark (User Timing, taken in a
//                 layout effect the moment the 100 rows are in the DOM, before paint): document,
//                 inline early request, script, JSON, render — all of it;
//   denominator = the page's own GET /api/v1/nodes?page_size=100 request, Resource Timing
//                 responseEnd − startTime (the API call's own time, as the browser saw it).
// The goal's ratio is the p50 numerator ÷ the p50 denominator; the ratio counted from the request's
// start (request start → rows, ÷ the same denominator) is reported beside it. Each load starts from a
// quiet page (the previous load's follow-up requests, such as each row's latest metrics, have
// finished), as a user's first open would. The JavaScript files that first load fetched are gzipped
// and summed: the budget for them is 250 KB.
import { existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { enroll } from "../../agent/enroll";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { apiClient, clusterWithKey } from "./api";
import { API_KEY, startBenchStack } from "./bench-stack";
import { seedNodes } from "./seed-nodes";
import { ratio, round, summarize } from "./stats";
import { type BenchResult, fmt, type Mode, table } from "./types";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];
const ROWS = 100;
/** web/src/pages/fleet.tsx's mark (kept in step by hand: the bench does not import the web app). */
const ROWS_MARK = "outpost:fleet-rows";
const JS_BUDGET_KB = 250;

export interface ConsoleRenderOptions {
  /** Nodes in the fleet (default 1,000; quick 300; the goal's size is 10,000). */
  nodes?: number;
  /** Page loads measured (default 5; quick 3). */
  loads?: number;
}

/** One page load, in ms from navigation start (api: the nodes request's own duration). */
interface Sample {
  api: number;
  render: number;
  document: number;
  script: number;
  asked: number;
  answered: number;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as any;

export async function consoleRender(mode: Mode, options: ConsoleRenderOptions = {}): Promise<BenchResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);
  const count = options.nodes ?? (mode.quick ? 300 : 1000);
  const loads = options.loads ?? (mode.quick ? 3 : 5);
  const stack = await startBenchStack();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  try {
    const client = apiClient(() => stack.url);
    const blob = decodeKeyBlob(await clusterWithKey(client, "render", "10.64.0.0/14"));
    if (!blob) throw new Error("the enrollment key did not decode");
    // One node through the API, the template for the rest (inserted directly: fast).
    const template = await enroll({ blob, nodeId: crypto.randomUUID(), idType: "random", log: quiet });
    mode.log(`  inserting ${count - 1} nodes into libSQL`);
    await seedNodes(stack, template.node_id, count - 1);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The API key as the console's stored credential (the login form is not what is measured), put
    // once into the tab's sessionStorage, which keeps it across the loads: an init script would run on
    // every navigation, inside the time measured.
    await page.goto(`${stack.url}/console/`);
    await page.evaluate(
      (key) => (globalThis as any).sessionStorage.setItem("outpost.console.token", key),
      API_KEY,
    );
    const samples: Sample[] = [];
    const scripts = new Map<string, number>();
    page.on("response", async (res) => {
      if (!/\.js(\?|$)/.test(res.url()) || scripts.has(res.url())) return;
      scripts.set(res.url(), 0);
      const body = await res.body().catch(() => null);
      if (body) scripts.set(res.url(), gzipSync(body).length);
    });
    for (let i = 0; i <= loads; i++) {
      await page.goto(`${stack.url}/console/?page_size=${ROWS}`);
      await page
        .locator("tbody tr")
        .nth(ROWS - 1)
        .waitFor({ timeout: 60_000 });
      const sample = await page.evaluate((mark): Sample | null => {
        // The page's own User Timing mark, taken when the first rows are in the DOM (web/src/pages/fleet.tsx).
        const rendered = performance.getEntriesByName(mark)[0]?.startTime ?? performance.now();
        const call = performance
          .getEntriesByType("resource")
          .find((e) => /\/api\/v1\/nodes\?/.test(e.name)) as PerformanceResourceTiming | undefined;
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceResourceTiming | undefined;
        const script = performance
          .getEntriesByType("resource")
          .find((e) => /\/console\/assets\/index-.*\.js$/.test(e.name)) as
          | PerformanceResourceTiming
          | undefined;
        return call
          ? {
              api: call.responseEnd - call.startTime,
              render: rendered,
              document: nav?.responseEnd ?? 0,
              script: script?.responseEnd ?? 0,
              asked: call.startTime,
              answered: call.responseEnd,
            }
          : null;
      }, ROWS_MARK);
      if (!sample) throw new Error("the page made no /api/v1/nodes? request");
      await page.waitForLoadState("networkidle");
      // The first load warms the Worker and the browser's cache of the console's files.
      if (i > 0) samples.push(sample);
      mode.log(
        `  load ${i}: page ${round(sample.document, 1)} ms, script ${round(sample.script, 1)} ms, ` +
          `nodes asked at ${round(sample.asked, 1)} ms, answered ${round(sample.answered, 1)} ms ` +
          `(API ${round(sample.api, 1)} ms), ${ROWS} rows at ${round(sample.render, 1)} ms`,
      );
    }
    const jsKb = [...scripts.values()].reduce((a, b) => a + b, 0) / 1024;
    const api = summarize(samples.map((s) => s.api));
    const render = summarize(samples.map((s) => s.render));
    const r = ratio(render.p50, api.p50);
    // Where the rest of the time goes: before the page asks (document, script, its evaluation) and
    // after the answer (parsing it, rendering the rows).
    const asked = summarize(samples.map((s) => s.asked));
    const after = summarize(samples.map((s) => s.render - s.answered));
    const fromAsk = ratio(summarize(samples.map((s) => s.render - s.asked)).p50, api.p50);
    return {
      name: "console",
      title: `Console fleet page with ${count} nodes`,
      markdown: [
        `${count} nodes; ${samples.length} measured loads of /console/?page_size=${ROWS} in Chromium (headless), after one warm-up load. "Rendered" is from navigation start to the page's \`${ROWS_MARK}\` mark (the ${ROWS} rows in the DOM); "API call" is the page's own nodes request, Resource Timing responseEnd − startTime. Goal ratio = p50 rendered ÷ p50 API call.`,
        "",
        table(
          ["", "p50 ms", "max ms"],
          [
            ["API call", fmt(api.p50), fmt(api.max)],
            ["rendered", fmt(render.p50), fmt(render.max)],
            ["nodes request started", fmt(asked.p50), fmt(asked.max)],
            ["answer to 100th row", fmt(after.p50), fmt(after.max)],
          ],
        ),
        "",
        `Counted from the nodes request's start instead (p50 of request start → rows ÷ p50 API call): ${fmt(fromAsk, 2)}. The goal's figure counts from navigation start: the document, the page's inline script that sends the request, and after the answer the JSON and the render.`,
        "",
        `First load's JavaScript: ${scripts.size} file(s), ${fmt(jsKb, 1)} KB gzipped.`,
      ],
      goals: [
        {
          what: `fleet page, first ${ROWS} rows of ${count} nodes ÷ its API call (p50)`,
          goal: "< 1.5",
          value: fmt(r, 2),
          met: count >= 10_000 ? r < 1.5 : null,
        },
        {
          what: "first load's JavaScript, gzipped (KB)",
          goal: `≤ ${JS_BUDGET_KB}`,
          value: fmt(jsKb, 1),
          met: jsKb <= JS_BUDGET_KB,
        },
      ],
      notes:
        count < 10_000
          ? [
              `${count} nodes: the goal is for 10,000 (npm run bench -- --only console --console-nodes 10000).`,
            ]
          : [],
      data: {
        count,
        samples,
        ratio: r,
        ratioFromRequest: fromAsk,
        firstLoadJsGzipKb: jsKb,
        scripts: [...scripts.keys()],
      },
    };
  } finally {
    await browser.close();
    await stack.stop();
  }
}
