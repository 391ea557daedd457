import type { Command } from "commander";
import { ok } from "../client";
import { session } from "../context";
import { CliError } from "../errors";
import { addPagingFlags, collect, listQuery } from "../lists";
import { ago, printJson, printTable } from "../output";
import { expiryFrom } from "../time";

/** Registers `outpost keys create|ls`. */
export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("enrollment keys, and the command that installs an agent");

  keys
    .command("create")
    .description("create an enrollment key and print the command that installs and enrols an agent with it")
    .option("--cluster <name>", "cluster the agents join (default: the server's DEFAULT_CLUSTER_NAME)")
    .option("--name <name>", "a label for the key")
    .option("--uses <n>", "how many agents may enrol with it (default 1)")
    .option("--unlimited", "any number of agents may enrol with it")
    .option("--expires <when>", "expiry: an ISO 8601 time or a duration (24h, 7d)")
    .action(async (options, command: Command) => {
      const { api, json } = await session(command);
      if (options.uses && options.unlimited) throw new CliError("--uses and --unlimited exclude each other");
      const body = {
        ...(options.name ? { name: options.name } : {}),
        ...(options.unlimited ? { uses_remaining: null } : {}),
        ...(options.uses ? { uses_remaining: Number(options.uses) } : {}),
        ...(options.expires ? { expired_at: expiryFrom(options.expires) } : {}),
      };
      const key = options.cluster
        ? ok(
            await api.POST("/api/v1/clusters/{cluster_name}/enrollment_keys", {
              params: { path: { cluster_name: options.cluster } },
              body,
            }),
          ).data
        : ok(await api.POST("/api/v1/clusters/default/enrollment_keys", { body })).data;
      const { command: install } = ok(
        await api.POST("/api/v1/enrollment_keys/{id}/install_command", { params: { path: { id: key.id } } }),
      ).data;
      if (json) return printJson({ ...key, install_command: install });
      const uses = key.uses_remaining === null ? "unlimited uses" : `${key.uses_remaining} use(s)`;
      process.stderr.write(
        `created enrollment key ${key.id} for cluster ${key.cluster_name} (${uses}, ${key.expired_at ? `expires ${key.expired_at}` : "no expiry"}).\nRun this on the host to install and enrol the agent:\n\n`,
      );
      process.stdout.write(`${install}\n`);
    });

  const KEY_FILTERS = { cluster_name: "cluster name", name: "key name (wildcards)" };
  addPagingFlags(
    keys
      .command("ls")
      .alias("list")
      .description("list enrollment keys")
      .option("--cluster-name <name>", KEY_FILTERS.cluster_name)
      .option("--name <name>", KEY_FILTERS.name),
  ).action(async (options, command: Command) => {
    const { api, json } = await session(command);
    const { rows } = await collect(
      async (query) => ok(await api.GET("/api/v1/enrollment_keys", { params: { query } })),
      listQuery(options, KEY_FILTERS),
      options.all === true,
    );
    if (json) return printJson(rows);
    printTable(
      ["id", "cluster", "name", "uses left", "expires", "last used"],
      rows.map((k) => [
        k.id,
        k.cluster_name,
        k.name,
        k.uses_remaining ?? "unlimited",
        k.expired_at ?? "never",
        ago(k.last_used_at),
      ]),
      "no enrollment keys",
    );
  });
}
