import type { SystemDetail, SystemMetrics } from "../../src/protocol/system-metrics";
import { withBudget } from "../inventory/budget";
import { CounterRates } from "./rates";

/** Time budgets, ms: /proc reads answer at once; statfs of a network mount or a CLI may not. */
const BUDGET = { proc: 1_000, mounts: 2_500, sysfs: 1_500, processes: 3_000, command: 6_000 } as const;

type Unavailable = { available: false; reason?: string };

/** Runs one collector within its budget; a failure or a timeout is that section being unavailable. */
async function guarded<T>(what: string, ms: number, collect: () => Promise<T>): Promise<T | Unavailable> {
  try {
    return await withBudget(collect(), ms, what);
  } catch (error) {
    return { available: false, reason: (error as Error).message.slice(0, 256) };
  }
}

// The collectors are loaded on first use (a host that never streams or never needs detail does
// not carry that code's state), and each keeps its own baseline for deltas.
type Cheap = {
  cpu: import("./cpu").CpuCollector;
  mounts: import("./mounts").MountsCollector;
  rates: CounterRates;
  memory: typeof import("./memory");
  diskIo: typeof import("./disk-io");
  network: typeof import("./network");
  sockets: typeof import("./sockets");
  temperatures: typeof import("./temperatures");
};
type Detail = {
  processes: import("./processes").ProcessesCollector;
  containers: typeof import("./containers");
  services: typeof import("./services");
  gpu: typeof import("./gpu");
};

/**
 * Samples the fuller metrics: `sample` the cheap sections (`system` of a heartbeat), `sampleDetail`
 * the detail sections (every `metrics_detail_interval_seconds`). On other platforms than Linux
 * every section is unavailable.
 * @example const system = new SystemSampler(); const snapshot = await system.sample(Date.now())
 */
export class SystemSampler {
  #cheap?: Cheap;
  #detail?: Detail;

  constructor(private readonly root = "") {}

  async #loadCheap(): Promise<Cheap> {
    if (this.#cheap) return this.#cheap;
    const [cpu, mounts, memory, diskIo, network, sockets, temperatures] = await Promise.all([
      import("./cpu"),
      import("./mounts"),
      import("./memory"),
      import("./disk-io"),
      import("./network"),
      import("./sockets"),
      import("./temperatures"),
    ]);
    this.#cheap = {
      cpu: new cpu.CpuCollector(this.root),
      mounts: new mounts.MountsCollector(this.root),
      rates: new CounterRates(),
      memory,
      diskIo,
      network,
      sockets,
      temperatures,
    };
    return this.#cheap;
  }

  async #loadDetail(): Promise<Detail> {
    if (this.#detail) return this.#detail;
    const [processes, containers, services, gpu] = await Promise.all([
      import("./processes"),
      import("./containers"),
      import("./services"),
      import("./gpu"),
    ]);
    this.#detail = { processes: new processes.ProcessesCollector(this.root), containers, services, gpu };
    return this.#detail;
  }

  /** The cheap sections at `at` (ms). */
  async sample(at: number): Promise<SystemMetrics> {
    const c = await this.#loadCheap();
    const root = this.root;
    const [cpu, memory, mounts, disk_io, network, sockets, temperatures] = await Promise.all([
      guarded("cpu", BUDGET.proc, () => c.cpu.collect()),
      guarded("memory", BUDGET.proc, () => c.memory.collectMemory(root)),
      guarded("mounts", BUDGET.mounts, () => c.mounts.collect()),
      guarded("disk io", BUDGET.proc, () => c.diskIo.collectDiskIo(c.rates, at, root)),
      guarded("network", BUDGET.proc, () => c.network.collectNetwork(c.rates, at, root)),
      guarded("sockets", BUDGET.proc, () => c.sockets.collectSockets(root)),
      guarded("temperatures", BUDGET.sysfs, () => c.temperatures.collectTemperatures(root)),
    ]);
    return { cpu, memory, mounts, disk_io, network, sockets, temperatures };
  }

  /** The detail sections at `at` (ms). */
  async sampleDetail(at: number): Promise<SystemDetail> {
    const d = await this.#loadDetail();
    const [processes, containers, services, gpu] = await Promise.all([
      guarded("processes", BUDGET.processes, () => d.processes.collect(at)),
      guarded("containers", BUDGET.command, () => d.containers.collectContainers()),
      guarded("services", BUDGET.command, () => d.services.collectServices()),
      guarded("gpu", BUDGET.command, () => d.gpu.collectGpu(this.root)),
    ]);
    return { collected_at: at, processes, containers, services, gpu };
  }
}
