import { connect, type Socket } from "node:net";

/**
 * `createConnection` for a `node:http` request over a unix socket (the Docker Engine API). The
 * request then skips http's Agent, which checks the host (`localhost` for a socket) with
 * `net.isIP`: that compiles Node's IPv6 regular expression, ~100 KB of heap kept for the process's
 * life (issue 25, docs/agent-footprint.md), and the containers section runs every detail interval.
 */
export const unixSocket =
  (path: string): (() => Socket) =>
  () =>
    connect(path);
