// outpost-agent: the CLI entry. Parses the command line, runs the command, maps every
// failure to one clear line on stderr and a documented exit code (./exit-codes.ts).
// Each command's code is imported when it runs: sshd starts `authorized-keys` at every login, and
// it should not pay for the WebSocket stack (ws loads http, https, tls and zlib) that only `run` uses.
import { ConfigError, loadInvocation, USAGE } from "./config";
import { EnrollmentRefused, EnrollmentUnavailable } from "./enroll";
import { EXIT } from "./exit-codes";
import { AlreadyRunning } from "./lock";
import { createLogger } from "./log";
import { RegistrationRejected } from "./registration";
import { EXIT_RESTART, selfUpdateSettings } from "./self-update/settings";
import { SSH_COMMANDS, SSH_USAGE, type SshCommand } from "./ssh-usage";
import { AGENT_VERSION } from "./version";

const fail = (line: string) => process.stderr.write(`${line}\n`);

/** Runs one invocation and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  // sshd and PAM run these with their own arguments; they never enrol or connect.
  if (SSH_COMMANDS.includes(argv[0] as SshCommand)) {
    const { runSshCommand } = await import("./ssh-commands");
    return runSshCommand(argv[0] as SshCommand, argv.slice(1), process.env, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
  }
  let invocation: ReturnType<typeof loadInvocation>;
  try {
    invocation = loadInvocation(argv, process.env);
  } catch (error) {
    fail(`outpost-agent: ${(error as Error).message} (see outpost-agent --help)`);
    return EXIT.config;
  }
  if (invocation.kind === "help") {
    process.stdout.write(`${USAGE}\n\n${SSH_USAGE}\n`);
    return EXIT.ok;
  }
  if (invocation.kind === "version") {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return EXIT.ok;
  }
  const { command, config } = invocation;
  const log = createLogger(config.logLevel);
  try {
    if (command === "status") {
      const { statusCommand } = await import("./status");
      return await statusCommand(
        config.stateDir,
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
    }
    const { obtainIdentity, runAgent } = await import("./run");
    if (command === "enroll") {
      const { identity, enrolled } = await obtainIdentity(config, log);
      process.stdout.write(
        `${enrolled ? (config.reenroll ? "re-enrolled" : "enrolled") : "already enrolled"}: node ${identity.node_id} in cluster ${identity.cluster_name} (${identity.server})\n`,
      );
      return EXIT.ok;
    }
    const selfUpdate = selfUpdateSettings(process.env);
    const code = await runAgent(config, log, selfUpdate);
    // Stopped to run a new bundle (or the restored one): start it, and watch it when it is on trial.
    if (code !== EXIT_RESTART) return code;
    const { restartAfterStop } = await import("./self-update/trial");
    return await restartAfterStop(config.stateDir, selfUpdate, log);
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof ConfigError) {
      fail(`outpost-agent: ${message}`);
      return EXIT.config;
    }
    if (error instanceof EnrollmentRefused) {
      fail(`enrolment failed: ${message}`);
      return EXIT.enrollmentRefused;
    }
    if (error instanceof RegistrationRejected) {
      fail(
        `enrolment failed: ${message}; this machine was not admitted (ask an administrator, then enrol again with a new key)`,
      );
      return EXIT.registrationRejected;
    }
    if (error instanceof EnrollmentUnavailable) {
      fail(`enrolment failed: ${message}`);
      return EXIT.error;
    }
    if (error instanceof AlreadyRunning) {
      fail(`outpost-agent: ${message}`);
      return EXIT.error;
    }
    fail(`outpost-agent: unexpected error: ${(error as Error).stack ?? message}`);
    return EXIT.error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    fail(`outpost-agent: unexpected error: ${(error as Error).stack ?? error}`);
    process.exit(EXIT.error);
  },
);
