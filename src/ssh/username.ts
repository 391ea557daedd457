/** The contract's SSH username rule: 3–32 characters, a letter or underscore first, then `[a-z0-9_-]`. */
export const SSH_USERNAME_PATTERN = /^[a-z_][a-z0-9_-]*$/;
export const SSH_USERNAME_MIN = 3;
export const SSH_USERNAME_MAX = 32;

/**
 * Whether `name` can be an Outpost SSH username (the API refuses any other, so no lookup is needed).
 * @example isSshUsername("deploy") // true; isSshUsername("Root") // false
 */
export function isSshUsername(name: string): boolean {
  return (
    name.length >= SSH_USERNAME_MIN && name.length <= SSH_USERNAME_MAX && SSH_USERNAME_PATTERN.test(name)
  );
}
