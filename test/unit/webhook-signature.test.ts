import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  hmacSha256Hex,
  parseSignatureHeader,
  signWebhook,
  verifyWebhookSignature,
} from "../../src/webhooks/signature";

const SECRET = "a-cryptographically-random-32-byte-secret";
const BODY = JSON.stringify({
  id: "0b5f6c3e-6a55-4c1e-9d1f-6a9b1b0c2d3e",
  type: "edge.node.registered",
  occurred_at: "2026-05-05T10:00:00.000Z",
  data: { node_id: "n-1", hostname: "höst ✓", note: 'it\'s "quoted" and $dollar' },
});
const T = 1_767_225_600;

/** The README's shell recipe, run for real. */
function opensslHex(secret: string, message: string): string {
  const out = execFileSync("bash", ["-c", 'echo -n "$MESSAGE" | openssl dgst -sha256 -hmac "$SECRET"'], {
    env: { ...process.env, MESSAGE: message, SECRET: secret },
    encoding: "utf8",
  });
  return out.trim().split(/\s+/).pop()!;
}

describe("signWebhook", () => {
  it("renders t=<unix seconds>,v1=<64 hex>", async () => {
    expect(await signWebhook(SECRET, BODY, T)).toMatch(new RegExp(`^t=${T},v1=[0-9a-f]{64}$`));
  });

  it("defaults t to the current unix second", async () => {
    const before = Math.floor(Date.now() / 1000);
    const t = parseSignatureHeader(await signWebhook(SECRET, BODY))!.timestamp;
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(before + 1);
  });

  it('is HMAC-SHA256(secret, "<t>.<body>") as openssl computes it', async () => {
    const header = await signWebhook(SECRET, BODY, T);
    expect(header).toBe(`t=${T},v1=${opensslHex(SECRET, `${T}.${BODY}`)}`);
  });

  it("agrees with Node's crypto, for a multi-byte secret too", async () => {
    for (const secret of [SECRET, "ünïcödé-sécret-ünïcödé-sécret-✓✓"]) {
      const expected = createHmac("sha256", secret).update(`${T}.${BODY}`).digest("hex");
      expect(await hmacSha256Hex(secret, `${T}.${BODY}`)).toBe(expected);
      expect(opensslHex(secret, `${T}.${BODY}`)).toBe(expected);
    }
  });
});

describe("verifyWebhookSignature", () => {
  it("accepts its own signature within the tolerance", async () => {
    const header = await signWebhook(SECRET, BODY, T);
    expect(await verifyWebhookSignature(SECRET, BODY, header, { now: T + 299 })).toBe(true);
    expect(await verifyWebhookSignature(SECRET, BODY, header, { now: T - 299 })).toBe(true);
  });

  it("accepts a header built with openssl", async () => {
    const header = `t=${T},v1=${opensslHex(SECRET, `${T}.${BODY}`)}`;
    expect(await verifyWebhookSignature(SECRET, BODY, header, { now: T })).toBe(true);
  });

  it("refuses a changed body, another secret, or a changed timestamp", async () => {
    const header = await signWebhook(SECRET, BODY, T);
    expect(await verifyWebhookSignature(SECRET, `${BODY} `, header, { now: T })).toBe(false);
    expect(await verifyWebhookSignature(`${SECRET}x`, BODY, header, { now: T })).toBe(false);
    const moved = header.replace(`t=${T}`, `t=${T + 1}`);
    expect(await verifyWebhookSignature(SECRET, BODY, moved, { now: T })).toBe(false);
  });

  it("refuses timestamps outside the tolerance (replays)", async () => {
    const header = await signWebhook(SECRET, BODY, T);
    expect(await verifyWebhookSignature(SECRET, BODY, header, { now: T + 301 })).toBe(false);
    expect(await verifyWebhookSignature(SECRET, BODY, header, { now: T - 301 })).toBe(false);
    expect(
      await verifyWebhookSignature(SECRET, BODY, header, { now: T + 3600, toleranceSeconds: 3600 }),
    ).toBe(true);
  });

  it("accepts any matching v1 among several (secret rotation)", async () => {
    const good = (await signWebhook(SECRET, BODY, T)).split("v1=")[1];
    const header = `t=${T},v1=${"0".repeat(64)},v1=${good}`;
    expect(await verifyWebhookSignature(SECRET, BODY, header, { now: T })).toBe(true);
  });

  it.each([
    "",
    "garbage",
    `t=${T}`,
    `v1=${"a".repeat(64)}`,
    `t=abc,v1=${"a".repeat(64)}`,
    `t=${T},v1=xyz`,
    `t=${T},v0=${"a".repeat(64)}`,
  ])("refuses the malformed header %j", async (header) => {
    expect(await verifyWebhookSignature(SECRET, BODY, header, { now: T })).toBe(false);
  });
});
