// Which hosts count as "this machine" for the plain-http rules shared by the agent, the installer
// (its own shell copy) and the Worker's release URL check.
/**
 * True when a URL's hostname names this machine: `localhost` and `*.localhost` (RFC 6761),
 * 127.0.0.0/8, and `::1` (brackets optional). Plain http to such a host never crosses a network,
 * so it is the one place the agent, the installer and release URLs accept it without opting in.
 * @example isLoopbackHostname(new URL("http://127.0.0.1:8787").hostname) // true
 */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "[::1]" || host === "::1") return true;
  const parts = host.split(".");
  return (
    parts.length === 4 && parts[0] === "127" && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
  );
}
