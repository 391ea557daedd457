import * as v from "valibot";

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

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Num = v.pipe(v.number(), v.finite());
const Pct = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(100));
const Name = v.pipe(v.string(), v.maxLength(255));
const Unavailable = v.object({
  available: v.literal(false),
  reason: v.optional(v.pipe(v.string(), v.maxLength(256))),
});
const section = <T extends v.ObjectEntries>(entries: T) =>
  v.union([v.object({ available: v.literal(true), ...entries }), Unavailable]);
const list = <T extends v.GenericSchema>(item: T, max: number) => v.pipe(v.array(item), v.maxLength(max));

export const CpuCoreSchema = v.object({
  id: Count,
  usage_percent: Pct,
  iowait_percent: Pct,
  steal_percent: Pct,
  frequency_mhz: v.nullable(Num),
});

export const CpuSectionSchema = section({
  usage_percent: Pct,
  user_percent: Pct,
  system_percent: Pct,
  iowait_percent: Pct,
  steal_percent: Pct,
  cores: list(CpuCoreSchema, SYSTEM_LIMITS.cores),
});

export const MemoryDetailSchema = section({
  buffers_bytes: Count,
  cached_bytes: Count,
  swap_total_bytes: Count,
  swap_used_bytes: Count,
  swap_free_bytes: Count,
});

export const MountSchema = v.object({
  device: Name,
  mount_point: Name,
  filesystem: v.pipe(v.string(), v.maxLength(64)),
  total_bytes: Count,
  used_bytes: Count,
  free_bytes: Count,
  usage_percent: Pct,
  inodes_total: Count,
  inodes_used: Count,
});

export const MountsSectionSchema = section({ mounts: list(MountSchema, SYSTEM_LIMITS.mounts) });

export const DiskIoSchema = v.object({
  device: Name,
  read_bytes_per_second: Num,
  write_bytes_per_second: Num,
  reads_per_second: Num,
  writes_per_second: Num,
});

export const DiskIoSectionSchema = section({ devices: list(DiskIoSchema, SYSTEM_LIMITS.devices) });

export const InterfaceSchema = v.object({
  name: Name,
  rx_bytes: Count,
  tx_bytes: Count,
  rx_bytes_per_second: Num,
  tx_bytes_per_second: Num,
});

export const NetworkSectionSchema = section({ interfaces: list(InterfaceSchema, SYSTEM_LIMITS.interfaces) });

export const SocketsSectionSchema = section({
  tcp_in_use: Count,
  tcp_time_wait: Count,
  tcp_orphaned: Count,
  udp_in_use: Count,
  tcp6_in_use: Count,
  udp6_in_use: Count,
});

export const SensorSchema = v.object({
  name: Name,
  celsius: Num,
  high_celsius: v.nullable(Num),
  critical_celsius: v.nullable(Num),
});

export const TemperaturesSectionSchema = section({ sensors: list(SensorSchema, SYSTEM_LIMITS.sensors) });

export const ProcessSchema = v.object({
  pid: Count,
  name: Name,
  cpu_percent: v.pipe(Num, v.minValue(0)),
  rss_bytes: Count,
});

export const ProcessesSectionSchema = section({
  total: Count,
  running: Count,
  top_cpu: list(ProcessSchema, SYSTEM_LIMITS.topProcesses),
  top_memory: list(ProcessSchema, SYSTEM_LIMITS.topProcesses),
});

export const ContainerSchema = v.object({
  id: v.pipe(v.string(), v.maxLength(64)),
  name: Name,
  image: Name,
  state: v.pipe(v.string(), v.maxLength(32)),
});

export const ContainersSectionSchema = section({
  total: Count,
  running: Count,
  containers: list(ContainerSchema, SYSTEM_LIMITS.containers),
});

export const ServiceSchema = v.object({
  name: Name,
  state: v.pipe(v.string(), v.maxLength(32)),
  sub_state: v.pipe(v.string(), v.maxLength(32)),
});

/** Counts of every service; the list holds the failed ones first, then active ones, bounded. */
export const ServicesSectionSchema = section({
  total: Count,
  active: Count,
  failed: Count,
  services: list(ServiceSchema, SYSTEM_LIMITS.services),
});

export const GpuSchema = v.object({
  index: Count,
  name: Name,
  vendor: v.picklist(["nvidia", "amd"]),
  utilization_percent: v.nullable(Pct),
  memory_used_bytes: v.nullable(Count),
  memory_total_bytes: v.nullable(Count),
  temperature_celsius: v.nullable(Num),
  power_watts: v.nullable(Num),
});

export const GpuSectionSchema = section({ gpus: list(GpuSchema, SYSTEM_LIMITS.gpus) });

/** The detail sections, collected every `metrics_detail_interval_seconds`. */
export const SystemDetailSchema = v.object({
  /** Epoch ms when the agent collected them. */
  collected_at: Count,
  processes: ProcessesSectionSchema,
  containers: ContainersSectionSchema,
  services: ServicesSectionSchema,
  gpu: GpuSectionSchema,
});
export type SystemDetail = v.InferOutput<typeof SystemDetailSchema>;

/** The fuller snapshot an agent sends beside `host`. */
export const SystemMetricsSchema = v.object({
  cpu: CpuSectionSchema,
  memory: MemoryDetailSchema,
  mounts: MountsSectionSchema,
  disk_io: DiskIoSectionSchema,
  network: NetworkSectionSchema,
  sockets: SocketsSectionSchema,
  temperatures: TemperaturesSectionSchema,
});
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
