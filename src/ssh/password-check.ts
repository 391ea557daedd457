import { verifyPassword } from "./password";

/**
 * An Argon2id hash (of a password nobody uses) with the parameters `hashPassword` writes, so a
 * check against it costs what a real check costs.
 */
const DUMMY_HASH =
  "$argon2id$v=19$m=19456,t=2,p=1$w1oS4fE74nDhep7NNBQp8A$n+8H3ohTUxQ3XbtKV3uwwrUckwXbj336W+kYFbL8YpI";

/**
 * Checks a login's password (review M7): a user that does not exist, or has no password, runs the
 * same Argon2id work against a dummy hash and fails, so response time does not reveal which
 * usernames exist or have a password.
 * @example if (!checkLoginPassword(found?.passwordHash ?? null, password)) refuse()
 */
export function checkLoginPassword(passwordHash: string | null, password: string): boolean {
  if (passwordHash === null) {
    verifyPassword(password, DUMMY_HASH);
    return false;
  }
  return verifyPassword(password, passwordHash);
}
