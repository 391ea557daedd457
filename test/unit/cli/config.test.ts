import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { configPath, normalizeUrl, readLogin, resolveCredentials, writeLogin } from "../../../cli/config";

const dirs: string[] = [];
async function home() {
  const dir = await mkdtemp(join(tmpdir(), "outpost-cli-config-"));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("cli config", () => {
  it("lives under XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configPath({ XDG_CONFIG_HOME: "/x" })).toBe("/x/outpost/config.json");
    expect(configPath({ HOME: "/home/a" })).toBe("/home/a/.config/outpost/config.json");
  });

  it("is written with mode 0600 in a 0700 directory, whatever the umask", async () => {
    const env = { XDG_CONFIG_HOME: await home() };
    const old = process.umask(0o022);
    try {
      await writeLogin({ url: "https://a.example", token: "ots_x", kind: "session" }, env);
      await writeLogin({ url: "https://b.example", token: "ots_y", kind: "session" }, env);
    } finally {
      process.umask(old);
    }
    expect((await stat(configPath(env))).mode & 0o777).toBe(0o600);
    expect((await stat(join(env.XDG_CONFIG_HOME, "outpost"))).mode & 0o777).toBe(0o700);
    expect((await readLogin(env))?.url).toBe("https://b.example");
  });

  it("lets flags, then OUTPOST_URL / OUTPOST_TOKEN, override the stored login part by part", async () => {
    const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: await home() };
    expect(await resolveCredentials({}, env)).toBeNull();
    await writeLogin({ url: "https://stored.example", token: "stored", kind: "token" }, env);
    expect(await resolveCredentials({}, env)).toEqual({
      url: "https://stored.example",
      token: "stored",
      source: "config",
    });
    env.OUTPOST_TOKEN = "from-env";
    expect(await resolveCredentials({}, env)).toMatchObject({
      url: "https://stored.example",
      token: "from-env",
    });
    expect(await resolveCredentials({ url: "flag.example" }, env)).toMatchObject({
      url: "https://flag.example",
      token: "from-env",
      source: "flags",
    });
  });

  it("normalizes a typed URL to its origin", () => {
    expect(normalizeUrl("op.example.com/")).toBe("https://op.example.com");
    expect(normalizeUrl("http://127.0.0.1:8787/api")).toBe("http://127.0.0.1:8787");
  });
});
