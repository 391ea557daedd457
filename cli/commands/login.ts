import type { Command } from "commander";
import { createApiClient, ok } from "../client";
import { configPath, normalizeUrl, readLogin, removeLogin, type StoredLogin, writeLogin } from "../config";
import { globals } from "../context";
import { CliError } from "../errors";
import { printJson } from "../output";
import { ask, askHidden, readStdin } from "../prompt";

/** Registers `outpost login`, `outpost logout` and `outpost whoami`. */
export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("log in to an Outpost server with a user and password, or with an API token")
    .argument("[url]", "server URL (https://outpost.example.com); default OUTPOST_URL or the stored one")
    .option("-u, --username <name>", "user name (asks for the password)")
    .option("--password-stdin", "read the password from stdin (for scripts)")
    .option("--with-token", "log in with an API token (OUTPOST_TOKEN, --token, or read from stdin)")
    .addHelpText(
      "after",
      "\nThe server and credential are stored with mode 0600 in $XDG_CONFIG_HOME/outpost/config.json;\nOUTPOST_URL and OUTPOST_TOKEN override them for one command.",
    )
    .action(async (urlArg: string | undefined, options, command: Command) => {
      const global = globals(command);
      const stored = await readLogin();
      const rawUrl =
        urlArg ?? global.url ?? process.env.OUTPOST_URL ?? stored?.url ?? (await ask("Server URL: "));
      const url = normalizeUrl(rawUrl.trim());
      let login: StoredLogin;
      if (options.withToken || (!options.username && (global.token || process.env.OUTPOST_TOKEN))) {
        const token =
          global.token ??
          process.env.OUTPOST_TOKEN ??
          (process.stdin.isTTY ? await askHidden("API token: ") : await readStdin());
        if (!token.trim()) throw new CliError("no token given");
        login = { url, token: token.trim(), kind: "token" };
      } else {
        const username = options.username ?? (await ask("Username: ")).trim();
        const password = options.passwordStdin ? await readStdin() : await askHidden("Password: ");
        const api = createApiClient({ url, token: "" });
        const answer = ok(
          await api.POST("/api/v1/auth/login", {
            body: { username, password },
            headers: { Authorization: "" },
          }),
        ).data;
        login = { url, token: answer.token, kind: "session", username, expires_at: answer.expires_at };
      }
      // Proves the credential before it is stored.
      const me = ok(await createApiClient(login).GET("/api/v1/auth/me")).data;
      const file = await writeLogin(login);
      if (global.json) return printJson({ url, kind: login.kind, principal: me, config: file });
      const who = me.user?.username ?? me.name ?? me.type;
      process.stdout.write(
        `logged in to ${url} as ${who}${login.expires_at ? ` until ${login.expires_at}` : ""}\n`,
      );
    });

  program
    .command("logout")
    .description("end the session and forget the stored login")
    .action(async () => {
      const stored = await readLogin();
      if (stored?.kind === "session") {
        // Best effort: the local file goes even when the server cannot be reached.
        await createApiClient(stored)
          .POST("/api/v1/auth/logout")
          .catch(() => undefined);
      }
      await removeLogin();
      process.stdout.write(stored ? `logged out of ${stored.url}\n` : `not logged in (${configPath()})\n`);
    });
}
