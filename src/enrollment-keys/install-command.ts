import type { InstallCommandResponse } from "./schema";

// Same rule as the install script's own quoting: a `'` closes the quote, is escaped and reopens it.
const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/**
 * The install line for a key: the script comes from `origin`, the key goes in the installer's
 * environment (a URL would leave it in proxy and access logs, as seed 001's `?key=` does).
 * @example installCommand("https://op.example.com", "eyJ…") // curl -fsSL 'https://op.example.com/install.sh' | sudo ENROLLMENT_KEY='eyJ…' sh
 */
export function installCommand(origin: string, key: string): InstallCommandResponse {
  return { command: `curl -fsSL ${quoted(`${origin}/install.sh`)} | sudo ENROLLMENT_KEY=${quoted(key)} sh` };
}
