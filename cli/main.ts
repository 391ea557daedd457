// outpost: the command-line client of the Outpost REST API. Builds the command tree, runs the
// command, and turns every failure into one message (the API's, with its request id) and an exit
// code: 0 ok, 1 failure (or a node failed in `run`), 2 bad usage, 130 interrupted.
import { Command, CommanderError } from "commander";
import { registerAlerts } from "./commands/alerts";
import { registerCompletion } from "./commands/completion";
import { registerKeys } from "./commands/keys";
import { registerLogin } from "./commands/login";
import { registerLogs } from "./commands/logs";
import { registerMetrics } from "./commands/metrics";
import { registerNodes } from "./commands/nodes";
import { registerRun } from "./commands/run";
import { registerTokens } from "./commands/tokens";
import { CliError } from "./errors";
import { CLI_VERSION } from "./version";

/** The whole command tree. */
export function buildProgram(): Command {
  const program = new Command("outpost")
    .description("Command-line client for an Outpost control plane")
    .version(CLI_VERSION)
    .option("--json", "print JSON instead of tables")
    .option("--url <url>", "server URL (overrides OUTPOST_URL and the stored login)")
    .option("--token <token>", "bearer token (overrides OUTPOST_TOKEN and the stored login)")
    .showHelpAfterError("(outpost --help for usage)")
    .enablePositionalOptions(false);
  registerLogin(program);
  registerNodes(program);
  registerRun(program);
  registerLogs(program);
  registerMetrics(program);
  registerAlerts(program);
  registerKeys(program);
  registerTokens(program);
  registerCompletion(program);
  for (const command of allCommands(program)) command.exitOverride();
  return program;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** Runs one invocation; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here too, with code 0; commander has printed them.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`outpost: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`outpost: unexpected error: ${(error as Error).stack ?? error}\n`);
    return 1;
  }
}
