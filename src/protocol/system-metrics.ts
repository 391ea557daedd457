import * as v from "valibot";
import { count, finiteNumber } from "./primitives";

// Each schema is built by a function, and the exported constant is that function's result, marked
// pure: the server uses the constants (built once), while the agent builds only the schema a frame
// needs when it needs it, and esbuild drops the unused constants from the agent's bundle, so an idle
// agent holds no schema (issue 25, docs/agent-footprint.md).

// The fuller metrics snapshot (issue 19), part of the one catalog in ./frames.ts: a heartbeat may
// carry `system` (the cheap sections), and a `metrics` frame carries one while a live stream is
// open. The detail sections (processes, containers, services, GPU) travel in their own
// `metrics_detail` frame every `metrics_detail_interval_seconds`, so the heartbeat frame stays a few
// KiB. A section the host cannot give is `{available: false}`. Bytes are integers, rates are bytes
// per second, temperatures °C. Arrays are bounded.

/** The capability an agent announces when it sends `system` and answers `metrics_stream`. */
export const METRICS_STREAM_CAPABILITY = "metrics_stream.v1";

/** Bounds on the snapshot's lists (what the agent keeps, what the server accepts). */
export const SYSTEM_LIMITS = {
  cores: 512,
  mounts: 64,
  devices: 64,
  interfaces: 64,
  sensors: 64,
  topProcesses: 5,
  containers: 50,
  services: 30,
  gpus: 16,
} as const;

const pct = () => v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(100));
const name = () => v.pipe(v.string(), v.maxLength(255));
const unavailable = () =>
  v.object({
    available: v.literal(false),
    reason: v.optional(v.pipe(v.string(), v.maxLength(256))),
  });
const section = <T extends v.ObjectEntries>(entries: T) =>
  v.union([v.object({ available: v.literal(true), ...entries }), unavailable()]);
const list = <T extends v.GenericSchema>(item: T, max: number) => v.pipe(v.array(item), v.maxLength(max));

const cpuCoreSchema = () =>
  v.object({
    id: count(),
    usage_percent: pct(),
    iowait_percent: pct(),
    steal_percent: pct(),
    frequency_mhz: v.nullable(finiteNumber()),
  });
export const CpuCoreSchema = /* @__PURE__ */ cpuCoreSchema();

const cpuSectionSchema = () =>
  section({
    usage_percent: pct(),
    user_percent: pct(),
    system_percent: pct(),
    iowait_percent: pct(),
    steal_percent: pct(),
    cores: list(cpuCoreSchema(), SYSTEM_LIMITS.cores),
  });
export const CpuSectionSchema = /* @__PURE__ */ cpuSectionSchema();

const memoryDetailSchema = () =>
  section({
    buffers_bytes: count(),
    cached_bytes: count(),
    swap_total_bytes: count(),
    swap_used_bytes: count(),
    swap_free_bytes: count(),
  });
export const MemoryDetailSchema = /* @__PURE__ */ memoryDetailSchema();

const mountSchema = () =>
  v.object({
    device: name(),
    mount_point: name(),
    filesystem: v.pipe(v.string(), v.maxLength(64)),
    total_bytes: count(),
    used_bytes: count(),
    free_bytes: count(),
    usage_percent: pct(),
    inodes_total: count(),
    inodes_used: count(),
  });

const mountsSectionSchema = () => section({ mounts: list(mountSchema(), SYSTEM_LIMITS.mounts) });
export const MountsSectionSchema = /* @__PURE__ */ mountsSectionSchema();

const diskIoSchema = () =>
  v.object({
    device: name(),
    read_bytes_per_second: finiteNumber(),
    write_bytes_per_second: finiteNumber(),
    reads_per_second: finiteNumber(),
    writes_per_second: finiteNumber(),
  });

const diskIoSectionSchema = () => section({ devices: list(diskIoSchema(), SYSTEM_LIMITS.devices) });
export const DiskIoSectionSchema = /* @__PURE__ */ diskIoSectionSchema();

const interfaceSchema = () =>
  v.object({
    name: name(),
    rx_bytes: count(),
    tx_bytes: count(),
    rx_bytes_per_second: finiteNumber(),
    tx_bytes_per_second: finiteNumber(),
  });

const networkSectionSchema = () => section({ interfaces: list(interfaceSchema(), SYSTEM_LIMITS.interfaces) });
export const NetworkSectionSchema = /* @__PURE__ */ networkSectionSchema();

const socketsSectionSchema = () =>
  section({
    tcp_in_use: count(),
    tcp_time_wait: count(),
    tcp_orphaned: count(),
    udp_in_use: count(),
    tcp6_in_use: count(),
    udp6_in_use: count(),
  });
export const SocketsSectionSchema = /* @__PURE__ */ socketsSectionSchema();

const sensorSchema = () =>
  v.object({
    name: name(),
    celsius: finiteNumber(),
    high_celsius: v.nullable(finiteNumber()),
    critical_celsius: v.nullable(finiteNumber()),
  });

const temperaturesSectionSchema = () => section({ sensors: list(sensorSchema(), SYSTEM_LIMITS.sensors) });
export const TemperaturesSectionSchema = /* @__PURE__ */ temperaturesSectionSchema();

const processSchema = () =>
  v.object({
    pid: count(),
    name: name(),
    cpu_percent: v.pipe(finiteNumber(), v.minValue(0)),
    rss_bytes: count(),
  });
export const ProcessSchema = /* @__PURE__ */ processSchema();

const processesSectionSchema = () =>
  section({
    total: count(),
    running: count(),
    top_cpu: list(processSchema(), SYSTEM_LIMITS.topProcesses),
    top_memory: list(processSchema(), SYSTEM_LIMITS.topProcesses),
  });
export const ProcessesSectionSchema = /* @__PURE__ */ processesSectionSchema();

const containerSchema = () =>
  v.object({
    id: v.pipe(v.string(), v.maxLength(64)),
    name: name(),
    image: name(),
    state: v.pipe(v.string(), v.maxLength(32)),
  });

const containersSectionSchema = () =>
  section({
    total: count(),
    running: count(),
    containers: list(containerSchema(), SYSTEM_LIMITS.containers),
  });
export const ContainersSectionSchema = /* @__PURE__ */ containersSectionSchema();

const serviceSchema = () =>
  v.object({
    name: name(),
    state: v.pipe(v.string(), v.maxLength(32)),
    sub_state: v.pipe(v.string(), v.maxLength(32)),
  });

/** Counts of every service; the list holds the failed ones first, then active ones, bounded. */
const servicesSectionSchema = () =>
  section({
    total: count(),
    active: count(),
    failed: count(),
    services: list(serviceSchema(), SYSTEM_LIMITS.services),
  });
export const ServicesSectionSchema = /* @__PURE__ */ servicesSectionSchema();

const gpuSchema = () =>
  v.object({
    index: count(),
    name: name(),
    vendor: v.picklist(["nvidia", "amd"]),
    utilization_percent: v.nullable(pct()),
    memory_used_bytes: v.nullable(count()),
    memory_total_bytes: v.nullable(count()),
    temperature_celsius: v.nullable(finiteNumber()),
    power_watts: v.nullable(finiteNumber()),
  });

const gpuSectionSchema = () => section({ gpus: list(gpuSchema(), SYSTEM_LIMITS.gpus) });
export const GpuSectionSchema = /* @__PURE__ */ gpuSectionSchema();

/** The detail sections, collected every `metrics_detail_interval_seconds`. */
export const systemDetailSchema = () =>
  v.object({
    /** Epoch ms when the agent collected them. */
    collected_at: count(),
    processes: processesSectionSchema(),
    containers: containersSectionSchema(),
    services: servicesSectionSchema(),
    gpu: gpuSectionSchema(),
  });
export const SystemDetailSchema = /* @__PURE__ */ systemDetailSchema();
export type SystemDetail = v.InferOutput<typeof SystemDetailSchema>;

/** The fuller snapshot an agent sends beside `host`. */
export const systemMetricsSchema = () =>
  v.object({
    cpu: cpuSectionSchema(),
    memory: memoryDetailSchema(),
    mounts: mountsSectionSchema(),
    disk_io: diskIoSectionSchema(),
    network: networkSectionSchema(),
    sockets: socketsSectionSchema(),
    temperatures: temperaturesSectionSchema(),
  });
export const SystemMetricsSchema = /* @__PURE__ */ systemMetricsSchema();
export type SystemMetrics = v.InferOutput<typeof SystemMetricsSchema>;

/** Section shapes for code that builds one. */
export type CpuSection = v.InferOutput<typeof CpuSectionSchema>;
export type MountsSection = v.InferOutput<typeof MountsSectionSchema>;
export type DiskIoSection = v.InferOutput<typeof DiskIoSectionSchema>;
export type NetworkSection = v.InferOutput<typeof NetworkSectionSchema>;
export type SocketsSection = v.InferOutput<typeof SocketsSectionSchema>;
export type TemperaturesSection = v.InferOutput<typeof TemperaturesSectionSchema>;
export type MemoryDetailSection = v.InferOutput<typeof MemoryDetailSchema>;
export type ProcessesSection = v.InferOutput<typeof ProcessesSectionSchema>;
export type ContainersSection = v.InferOutput<typeof ContainersSectionSchema>;
export type ServicesSection = v.InferOutput<typeof ServicesSectionSchema>;
export type GpuSection = v.InferOutput<typeof GpuSectionSchema>;

/** Allowed live-stream sampling intervals, seconds. */
export const STREAM_INTERVAL = { min: 1, max: 60 } as const;
