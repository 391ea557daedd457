import type { Command } from "commander";
import { type ApiClient, createApiClient } from "./client";
import { type Credentials, resolveCredentials } from "./config";
import { CliError } from "./errors";

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  json?: boolean;
  url?: string;
  token?: string;
}

/** What a command that talks to the server needs. */
export interface Session {
  api: ApiClient;
  credentials: Credentials;
  json: boolean;
}

/** The global options as seen from `command` (commander keeps them on the root). */
export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The API client for a command, or a clear error when nobody has logged in. */
export async function session(command: Command): Promise<Session> {
  const options = globals(command);
  const credentials = await resolveCredentials(options);
  if (!credentials) {
    throw new CliError(
      "not logged in: run `outpost login`, or set OUTPOST_URL and OUTPOST_TOKEN (or pass --url and --token)",
    );
  }
  return { api: createApiClient(credentials), credentials, json: options.json === true };
}
