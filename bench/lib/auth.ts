// 7. The cost of each principal. The same authenticated request (GET /api/v1/clusters?page_size=1) with
// API_KEY, a user's session and an API token, in rounds key → session → token so drift in the
// machine's load falls on all three alike; req/s and p50 as ratios to the key's. The session and the
// token are resolved from the isolate's principal cache (AUTH_CACHE_SECONDS, default 5) most of the
// time; the key is compared in constant time on every request.
import autocannon from "autocannon";
import { API_KEY, startBenchStack } from "./bench-stack";
import { writeResultFile } from "./result-file";
import { ratio, round } from "./stats";
import { type BenchResult, fmt, type Mode, table } from "./types";

const PATH = "/api/v1/clusters?page_size=1";
const PASSWORD = "bench-password-of-some-length";

async function call(url: string, init: { method?: string; body?: unknown; auth?: string } = {}) {
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${init.auth ?? API_KEY}`,
      ...(init.body ? { "content-type": "application/json" } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const json: any = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function cannon(url: string, secret: string, seconds: number, connections: number) {
  const r: any = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    headers: { authorization: `Bearer ${secret}` },
  });
  return { rps: r.requests.average as number, p50: r.latency.p50 as number, non2xx: r.non2xx as number };
}

export async function authCost(mode: Mode): Promise<BenchResult> {
  const seconds = mode.quick ? 3 : 10;
  const rounds = mode.quick ? 2 : 3;
  const connections = 8;
  const stack = await startBenchStack();
  try {
    await call(`${stack.url}/api/v1/users`, {
      method: "POST",
      body: { username: "bench", password: PASSWORD, roles: ["viewer"] },
    });
    const login = await call(`${stack.url}/api/v1/auth/login`, {
      method: "POST",
      auth: "none",
      body: { username: "bench", password: PASSWORD },
    });
    const token = await call(`${stack.url}/api/v1/api_tokens`, {
      method: "POST",
      body: { name: "bench", scopes: ["clusters:read"] },
    });
    const secrets = { api_key: API_KEY, session: login.data.token, api_token: token.data.token };
    const runs: Record<string, { rps: number; p50: number; non2xx: number }[]> = {
      api_key: [],
      session: [],
      api_token: [],
    };
    for (let i = 0; i < rounds; i++) {
      for (const [kind, secret] of Object.entries(secrets)) {
        mode.log(`  round ${i + 1}: ${kind} (${seconds} s, ${connections} connections)`);
        runs[kind].push(await cannon(`${stack.url}${PATH}`, secret, seconds, connections));
      }
    }
    const mean = (kind: string, key: "rps" | "p50") =>
      round(runs[kind].reduce((s, r) => s + r[key], 0) / runs[kind].length, 1);
    const keyRps = mean("api_key", "rps");
    const keyP50 = mean("api_key", "p50");
    const rows = Object.keys(runs).map((kind) => [
      kind,
      fmt(mean(kind, "rps")),
      fmt(mean(kind, "p50")),
      fmt(ratio(mean(kind, "rps"), keyRps), 2),
      fmt(ratio(mean(kind, "p50"), keyP50), 2),
      runs[kind].reduce((s, r) => s + r.non2xx, 0),
    ]);
    const p50Ratio = (kind: string) => ratio(mean(kind, "p50"), keyP50);
    const goals = ["session", "api_token"].map((kind) => ({
      what: `${kind} p50 / API_KEY p50`,
      goal: "≤ 1.2",
      value: fmt(p50Ratio(kind), 2),
      met: p50Ratio(kind) <= 1.2,
    }));
    const markdown = [
      `\`GET ${PATH}\`, ${rounds} rounds of ${seconds} s per credential (key → session → token), ${connections} connections, means over the rounds.`,
      "",
      table(["credential", "req/s", "p50 ms", "req/s ÷ key", "p50 ÷ key", "non-2xx"], rows),
    ];
    const result: BenchResult = {
      name: "auth",
      title: "Authentication cost: API key, session, API token",
      markdown,
      goals,
      notes: [
        "sessions and tokens come from the isolate's principal cache (AUTH_CACHE_SECONDS=5) between reads",
      ],
      data: { runs },
    };
    await writeResultFile("auth", result, { size: mode.quick ? "quick" : undefined });
    return result;
  } finally {
    await stack.stop();
  }
}
