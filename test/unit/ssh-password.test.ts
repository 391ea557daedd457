import { describe, expect, it } from "vitest";
import { ARGON2_PARAMS, hashPassword, verifyPassword } from "../../src/ssh/password";

// Small parameters keep most of these fast; one test runs the production parameters.
const FAST = { m: 64, t: 1, p: 1 };

describe("SSH password hashing (Argon2id)", () => {
  it("produces a PHC string with the production parameters and verifies it", () => {
    const phc = hashPassword("MySecurePassword123!");
    expect(phc).toMatch(
      new RegExp(
        `^\\$argon2id\\$v=19\\$m=${ARGON2_PARAMS.m},t=${ARGON2_PARAMS.t},p=${ARGON2_PARAMS.p}\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}$`,
      ),
    );
    expect(phc).not.toContain("MySecurePassword123!");
    expect(verifyPassword("MySecurePassword123!", phc)).toBe(true);
    expect(verifyPassword("MySecurePassword123?", phc)).toBe(false);
  }, 30_000);

  it("matches the reference implementation's Argon2id test vector", () => {
    // phc-winner-argon2 src/test.c: argon2id, v=0x13, t=2, m=2^16, p=1, "password" / "somesalt".
    const phc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    expect(verifyPassword("password", phc)).toBe(true);
    expect(verifyPassword("Password", phc)).toBe(false);
  }, 30_000);

  it("salts every hash", () => {
    const a = hashPassword("same password here", FAST);
    const b = hashPassword("same password here", FAST);
    expect(a).not.toBe(b);
    expect(verifyPassword("same password here", a)).toBe(true);
    expect(verifyPassword("same password here", b)).toBe(true);
  });

  it("handles non-ASCII passwords as UTF-8", () => {
    const phc = hashPassword("pässwörd-ünïcödé-🔑", FAST);
    expect(verifyPassword("pässwörd-ünïcödé-🔑", phc)).toBe(true);
    expect(verifyPassword("passwörd-ünïcödé-🔑", phc)).toBe(false);
  });

  it.each([
    ["empty", ""],
    ["bcrypt", "$2b$12$abcdefghijklmnopqrstuuN9p5yZk1pVq6mJxPp6w5H3S0xG7iFq"],
    ["argon2i", "$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"],
    ["old version", "$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"],
    [
      "huge memory",
      "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    ],
    ["many passes", "$argon2id$v=19$m=64,t=999,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"],
    ["short hash", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFh"],
    ["bad base64", "$argon2id$v=19$m=64,t=1,p=1$c29t!!!hbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"],
  ])("refuses a %s hash instead of throwing", (_name, phc) => {
    expect(verifyPassword("password", phc)).toBe(false);
  });
});
