import { request } from "node:http";
import { compareText } from "../../compare";
import { unixSocket } from "../../unix-socket";
import { Unavailable } from "../budget";

const DOCKER_SOCKET = process.env.DOCKER_HOST?.startsWith("unix://")
  ? process.env.DOCKER_HOST.slice("unix://".length)
  : "/var/run/docker.sock";

interface DockerContainer {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  State?: string;
  Status?: string;
  Created?: number;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels?: Record<string, string>;
}

// The Engine API over its unix socket: no docker CLI needed, no native module.
function dockerGet(path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const options = {
      createConnection: unixSocket(DOCKER_SOCKET),
      path,
      method: "GET",
      headers: { host: "localhost" },
      timeout: timeoutMs,
    };
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Unavailable(`Docker API answered ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch {
          reject(new Unavailable("Docker API answered with invalid JSON"));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Unavailable("Docker API did not answer in time")));
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error instanceof Unavailable
          ? error
          : new Unavailable(
              error.code === "ENOENT" || error.code === "ECONNREFUSED"
                ? "Docker is not running on this host"
                : `cannot reach Docker (${error.code ?? error.message})`,
            ),
      ),
    );
    req.end();
  });
}

function port(p: NonNullable<DockerContainer["Ports"]>[number]): string {
  return p.PublicPort
    ? `${p.IP ?? "0.0.0.0"}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`
    : `${p.PrivatePort}/${p.Type}`;
}

/** `containers`: every Docker container (running or not) with image, state, ports and compose project. */
export async function collectContainers() {
  const list = (await dockerGet("/containers/json?all=1", 5000)) as DockerContainer[];
  const containers = list.map((c) => ({
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ""),
    image: c.Image ?? "",
    image_id: c.ImageID ?? null,
    state: c.State ?? null,
    // "Up 3 hours" changes every interval; the hash must not, so only the state is reported.
    status: null,
    created_at: c.Created ? new Date(c.Created * 1000).toISOString() : null,
    ports: [...new Set((c.Ports ?? []).map(port))].sort(),
    compose_project: c.Labels?.["com.docker.compose.project"] ?? null,
  }));
  containers.sort((a, b) => compareText(a.name, b.name));
  return { engine: "docker", containers };
}
