import { isAbsolute } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { decodeKeyBlob, type EnrollmentKeyBlob } from "../src/enrollment/key-blob";
import { LOG_LEVELS, type LogLevel } from "./log";
import { ALLOW_INSECURE_HTTP_ENV, plainHttpProblem } from "./transport";

export const COMMANDS = ["run", "enroll", "status"] as const;
export type Command = (typeof COMMANDS)[number];
export type IdType = "persistent" | "random";

/** Everything the agent reads from flags and environment, validated once at boot. */
export interface AgentConfig {
  stateDir: string;
  idType: IdType;
  heartbeatIntervalSeconds: number;
  logLevel: LogLevel;
  /** Decoded `ENROLLMENT_KEY`, or null when unset (fine once the node is enrolled). */
  enrollment: EnrollmentKeyBlob | null;
  /** Where the persistent node id comes from; null means `/etc/machine-id`, then the dbus copy. */
  machineIdFile: string | null;
  outputLimitBytes: number;
  diskCheckPercent: number;
  /** OUTPOST_ALLOW_INSECURE_HTTP=1: plain http:// to a server that is not loopback is accepted. */
  allowInsecureHttp: boolean;
  /** Host inventory: how often it is collected, and whether users and groups are (the owner's call). */
  inventory: { intervalSeconds: number; includeUsers: boolean };
  /** The environment file that held ENROLLMENT_KEY (the installer's); the key is removed from it once enrolled. */
  envFile?: string | null;
  /**
   * `enroll --reenroll`: enrol again although the state dir has an identity, with its node id and
   * its token as proof (a re-registration of the same node, review H1), e.g. after a token revoke.
   */
  reenroll?: boolean;
}

/** The parsed command line: what to do, and the settings when it needs them. */
export type Invocation =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "command"; command: Command; config: AgentConfig };

/** A setting is missing or wrong; the message is one line naming it. Exit code 2. */
export class ConfigError extends Error {}

export const USAGE = `Usage: outpost-agent [run|enroll|status] [options]

Commands:
  run       enrol if needed, then stay connected and run commands (default)
  enroll    enrol with ENROLLMENT_KEY and exit; with --reenroll, enrol this node again (same id,
            its saved token as proof; e.g. after its token was revoked)
  status    show node id, cluster, server, connection state and last heartbeat

Options (environment variable in brackets):
  --state-dir DIR             state directory [OUTPOST_STATE_DIR] (/var/lib/outpost-agent)
  --id-type TYPE              persistent | random [OUTPOST_ID_TYPE] (persistent)
  --heartbeat-interval SECS   seconds between heartbeats [OUTPOST_HEARTBEAT_INTERVAL] (15)
  --log-level LEVEL           debug | info | warn | error [OUTPOST_LOG_LEVEL] (info)
  --machine-id-file PATH      source of the persistent node id [OUTPOST_MACHINE_ID_FILE] (/etc/machine-id)
  --output-limit BYTES        stored output cap per command [OUTPOST_OUTPUT_LIMIT_BYTES] (1048576)
  --disk-check-percent N      root disk use that fails the disk check [OUTPOST_DISK_CHECK_PERCENT] (95)
  --inventory-interval SECS   seconds between host inventory collections [OUTPOST_INVENTORY_INTERVAL] (3600)
  --inventory-users BOOL      collect local users and groups (false: never) [OUTPOST_INVENTORY_USERS] (true)
  --reenroll                  enroll: enrol again although enrolled (needs ENROLLMENT_KEY)
  -h, --help                  show this help
  -v, --version               print the agent version

Environment:
  ENROLLMENT_KEY              enrollment key blob from Outpost (needed until the node is enrolled)
  OUTPOST_ALLOW_INSECURE_HTTP 1 = accept a plain http:// server that is not loopback (token and
                              commands then travel unencrypted); default 0
  OUTPOST_SIGNALS, OUTPOST_LOGS, OUTPOST_FILES
                              on | off: whether the server may signal processes, read logs,
                              move files on this host (default on; off cannot be overridden)
  OUTPOST_LOG_PATHS           directories whose log files may be read (default /var/log)
  OUTPOST_FILE_PATHS          directories files may be downloaded from or uploaded to
                              (default none: no file transfer)
  OUTPOST_DOCKER_LOGS         on | off: whether container logs may be read through the Docker
                              socket (default off: the socket reaches every container)
  OUTPOST_DOCKER_SOCKET       the Docker Engine API socket (default /var/run/docker.sock)

A key that requires approval makes the agent wait (and poll) until an administrator approves
its registration; a rejected or expired registration ends it with exit code 6.

Exit codes: 0 ok, 1 unexpected error, 2 bad configuration, 3 enrolment refused,
            4 node deleted in Outpost, 5 token revoked/unauthorized, 6 registration rejected`;

const wholeNumber = (min: number, max: number, what: string) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, `must be a whole number of ${what}`),
    v.transform(Number),
    v.minValue(min, `must be between ${min} and ${max} ${what}`),
    v.maxValue(max, `must be between ${min} and ${max} ${what}`),
  );

const absolutePath = v.pipe(
  v.string(),
  v.check((p) => isAbsolute(p), "must be an absolute path"),
);

// One table: flag name, environment name, default and schema for each setting.
const SETTINGS = {
  stateDir: {
    flag: "state-dir",
    env: "OUTPOST_STATE_DIR",
    fallback: "/var/lib/outpost-agent",
    schema: absolutePath,
  },
  idType: {
    flag: "id-type",
    env: "OUTPOST_ID_TYPE",
    fallback: "persistent",
    schema: v.picklist(["persistent", "random"], 'must be "persistent" or "random"'),
  },
  heartbeatIntervalSeconds: {
    flag: "heartbeat-interval",
    env: "OUTPOST_HEARTBEAT_INTERVAL",
    fallback: "15",
    schema: wholeNumber(1, 3600, "seconds"),
  },
  logLevel: {
    flag: "log-level",
    env: "OUTPOST_LOG_LEVEL",
    fallback: "info",
    schema: v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`),
  },
  machineIdFile: {
    flag: "machine-id-file",
    env: "OUTPOST_MACHINE_ID_FILE",
    fallback: null,
    schema: absolutePath,
  },
  outputLimitBytes: {
    flag: "output-limit",
    env: "OUTPOST_OUTPUT_LIMIT_BYTES",
    fallback: "1048576",
    schema: wholeNumber(1024, 64 * 1024 * 1024, "bytes"),
  },
  envFile: {
    flag: "env-file",
    env: "OUTPOST_ENV_FILE",
    fallback: null,
    schema: absolutePath,
  },
  diskCheckPercent: {
    flag: "disk-check-percent",
    env: "OUTPOST_DISK_CHECK_PERCENT",
    fallback: "95",
    schema: wholeNumber(1, 100, "percent"),
  },
  inventoryIntervalSeconds: {
    flag: "inventory-interval",
    env: "OUTPOST_INVENTORY_INTERVAL",
    fallback: "3600",
    schema: wholeNumber(60, 86_400, "seconds"),
  },
  inventoryUsers: {
    flag: "inventory-users",
    env: "OUTPOST_INVENTORY_USERS",
    fallback: "true",
    schema: v.pipe(
      v.picklist(["true", "false", "1", "0", "yes", "no"], 'must be "true" or "false"'),
      v.transform((s) => s === "true" || s === "1" || s === "yes"),
    ),
  },
} as const;

const enrollmentKeySchema = v.pipe(
  v.string(),
  v.transform(decodeKeyBlob),
  v.check((blob) => blob !== null, "is not an Outpost enrollment key (base64 JSON with server and key)"),
  v.transform((blob) => blob as EnrollmentKeyBlob),
  v.check((blob) => {
    try {
      const url = new URL(blob.server);
      return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password;
    } catch {
      return false;
    }
  }, "names a server that is not an http(s) URL"),
);

function settle<S extends v.GenericSchema>(
  schema: S,
  raw: string,
  name: string,
  secret = false,
): v.InferOutput<S> {
  const result = v.safeParse(schema, raw);
  if (result.success) return result.output;
  // Never echo a secret back into logs.
  throw new ConfigError(
    `${name} ${result.issues[0].message}${secret ? "" : ` (got ${JSON.stringify(raw)})`}`,
  );
}

/**
 * Parses argv (without `node script`) and the environment. Flags win over environment,
 * empty environment values count as unset (systemd EnvironmentFile lines like `X=`).
 * @throws ConfigError with a one-line message naming the offending flag or variable
 * @example loadInvocation(["run", "--log-level", "debug"], process.env)
 */
export function loadInvocation(argv: string[], env: NodeJS.ProcessEnv): Invocation {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
        reenroll: { type: "boolean" },
        ...Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: "string" as const }])),
      },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message.split("\n")[0]);
  }
  if (parsed.values.help) return { kind: "help" };
  if (parsed.values.version) return { kind: "version" };
  if (parsed.positionals.length > 1) throw new ConfigError(`unexpected argument "${parsed.positionals[1]}"`);
  const command = (parsed.positionals[0] ?? "run") as Command;
  if (!COMMANDS.includes(command)) {
    throw new ConfigError(`unknown command "${command}" (expected ${COMMANDS.join(", ")})`);
  }

  type Setting<K extends keyof typeof SETTINGS> = v.InferOutput<(typeof SETTINGS)[K]["schema"]>;
  const readOptional = <K extends keyof typeof SETTINGS>(key: K): Setting<K> | null => {
    const setting = SETTINGS[key] as (typeof SETTINGS)[keyof typeof SETTINGS];
    const fromFlag = parsed.values[setting.flag];
    if (typeof fromFlag === "string") return settle(setting.schema, fromFlag, `--${setting.flag}`);
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== "") return settle(setting.schema, fromEnv, setting.env);
    return setting.fallback === null ? null : settle(setting.schema, setting.fallback, setting.env);
  };
  // Settings with a default (a string fallback) always have a value.
  type Defaulted = {
    [K in keyof typeof SETTINGS]: (typeof SETTINGS)[K]["fallback"] extends string ? K : never;
  }[keyof typeof SETTINGS];
  const read = <K extends Defaulted>(key: K): Setting<K> => {
    const value = readOptional(key);
    if (value === null) throw new Error(`setting ${key} has no default`); // unreachable: each has one
    return value;
  };

  const key = env.ENROLLMENT_KEY?.trim();
  const allowInsecureHttp = settle(
    v.picklist(["0", "1"], "must be 1 or 0"),
    env[ALLOW_INSECURE_HTTP_ENV] || "0",
    ALLOW_INSECURE_HTTP_ENV,
  );
  const config: AgentConfig = {
    stateDir: read("stateDir"),
    idType: read("idType"),
    heartbeatIntervalSeconds: read("heartbeatIntervalSeconds"),
    logLevel: read("logLevel"),
    machineIdFile: readOptional("machineIdFile"),
    outputLimitBytes: read("outputLimitBytes"),
    diskCheckPercent: read("diskCheckPercent"),
    inventory: {
      intervalSeconds: read("inventoryIntervalSeconds"),
      includeUsers: read("inventoryUsers"),
    },
    envFile: readOptional("envFile"),
    enrollment: key ? settle(enrollmentKeySchema, key, "ENROLLMENT_KEY", true) : null,
    allowInsecureHttp: allowInsecureHttp === "1",
    reenroll: parsed.values.reenroll === true,
  };
  if (config.reenroll && command !== "enroll")
    throw new ConfigError("--reenroll goes with the enroll command");
  if (config.reenroll && !config.enrollment)
    throw new ConfigError("--reenroll needs ENROLLMENT_KEY (a key of the node's own cluster)");
  const insecure = config.enrollment && plainHttpProblem(config.enrollment.server, config.allowInsecureHttp);
  if (insecure) throw new ConfigError(`ENROLLMENT_KEY names a server the agent will not use: ${insecure}`);
  return { kind: "command", command, config };
}
