import type { Command } from "commander";
import { ok } from "../client";
import { session } from "../context";
import { CliError } from "../errors";
import { addPagingFlags, collect, listQuery } from "../lists";
import { ago, printJson, printTable } from "../output";
import { expiryFrom } from "../time";

const TOKEN_FILTERS = { name: "token name (wildcards)", revoked: "true or false" };

/** Registers `outpost tokens create|ls|revoke`. */
export function registerTokens(program: Command): void {
  const tokens = program.command("tokens").description("API tokens for scripts and CI");

  tokens
    .command("create")
    .description("create an API token (its secret is shown once)")
    .requiredOption("--name <name>", "what the token is for")
    .option(
      "--scope <permission...>",
      "permissions it grants (nodes:read, commands:*, …); default all of yours",
    )
    .option("--cluster <name...>", "limit it to these clusters")
    .option("--expires <when>", "expiry: an ISO 8601 time or a duration (30d, 12h)")
    .action(async (options, command: Command) => {
      const { api, json } = await session(command);
      let scopes: string[] = options.scope ?? [];
      if (scopes.length === 0) scopes = ok(await api.GET("/api/v1/auth/me")).data.permissions;
      const created = ok(
        await api.POST("/api/v1/api_tokens", {
          body: {
            name: options.name,
            scopes,
            cluster_names: options.cluster ?? null,
            expires_at: options.expires ? expiryFrom(options.expires) : null,
          },
        }),
      ).data;
      if (json) return printJson(created);
      process.stderr.write(`created token ${created.id} (${created.name}); its secret is shown only now:\n`);
      process.stdout.write(`${created.token}\n`);
    });

  addPagingFlags(
    tokens
      .command("ls")
      .alias("list")
      .description("list API tokens")
      .option("--name <name>", TOKEN_FILTERS.name)
      .option("--revoked <bool>", TOKEN_FILTERS.revoked),
  ).action(async (options, command: Command) => {
    const { api, json } = await session(command);
    const { rows } = await collect(
      async (query) => ok(await api.GET("/api/v1/api_tokens", { params: { query } })),
      listQuery(options, TOKEN_FILTERS),
      options.all === true,
    );
    if (json) return printJson(rows);
    printTable(
      ["id", "name", "prefix", "scopes", "clusters", "expires", "last used", "revoked"],
      rows.map((t) => [
        t.id,
        t.name,
        t.prefix,
        t.scopes,
        t.cluster_names ?? "all",
        t.expires_at ?? "never",
        ago(t.last_used_at),
        t.revoked ? "yes" : "no",
      ]),
      "no API tokens",
    );
  });

  tokens
    .command("revoke")
    .description("revoke an API token (it stops working at once)")
    .argument("<id>", "token id")
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = await session(command);
      if (!/^[0-9a-f-]{36}$/i.test(id))
        throw new CliError(`'${id}' is not a token id (see outpost tokens ls)`);
      ok(await api.DELETE("/api/v1/api_tokens/{id}", { params: { path: { id } } }));
      if (json) return printJson({ revoked: id });
      process.stdout.write(`revoked token ${id}\n`);
    });
}
