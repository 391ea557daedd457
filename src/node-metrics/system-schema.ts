import * as v from "valibot";
import {
  ContainersSectionSchema,
  CpuCoreSchema,
  DiskIoSectionSchema,
  GpuSectionSchema,
  NetworkSectionSchema,
  ProcessesSectionSchema,
  ServicesSectionSchema,
  SocketsSectionSchema,
  TemperaturesSectionSchema,
} from "../protocol/system-metrics";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

// `GET /api/v1/nodes/{node_id}/metrics/system` and the live stream's `metrics` event: the latest
// full snapshot in the contract's naming (`usage_percent`, `load_1m`, bytes plus `_gb`). A section
// the host (or an older agent) cannot give is `{available: false, reason}`.

const Integer = v.pipe(v.number(), v.integer());
const Pct = v.number();
const Unavailable = v.object({ available: v.literal(false), reason: v.optional(v.string()) });
const section = <T extends v.ObjectEntries>(entries: T, description: string) =>
  v.pipe(
    v.union([v.object({ available: v.literal(true), ...entries }), Unavailable]),
    v.description(description),
  );

const Sized = {
  total_bytes: Integer,
  total_gb: v.number(),
  used_bytes: Integer,
  used_gb: v.number(),
  usage_percent: Pct,
};

const Mount = v.object({
  device: v.string(),
  mount_point: v.string(),
  filesystem: v.string(),
  ...Sized,
  free_bytes: Integer,
  free_gb: v.number(),
  inodes_total: Integer,
  inodes_used: Integer,
  inodes_usage_percent: Pct,
});

export const SystemMetricsResponseSchema = v.pipe(
  v.object({
    node_id: UuidOutput,
    cluster_name: v.string(),
    collected_at: v.pipe(DateTimeOutput, v.description("When the snapshot was taken (the latest heartbeat)")),
    detail_collected_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description("When processes, containers, services and GPU were last collected"),
    ),
    uptime_seconds: Integer,
    cpu: v.pipe(
      v.object({
        cores_count: Integer,
        usage_percent: Pct,
        load_1m: v.number(),
        load_5m: v.number(),
        load_15m: v.number(),
        user_percent: v.nullable(Pct),
        system_percent: v.nullable(Pct),
        iowait_percent: v.nullable(Pct),
        steal_percent: v.nullable(Pct),
        cores: v.array(CpuCoreSchema),
      }),
      v.description("Total and per-core usage; the split is null when the agent does not report it"),
    ),
    memory: v.pipe(
      v.object({
        ...Sized,
        available_bytes: Integer,
        available_gb: v.number(),
        buffers_bytes: v.nullable(Integer),
        cached_bytes: v.nullable(Integer),
      }),
      v.description("Physical memory; used = total − available"),
    ),
    swap: section({ ...Sized, free_bytes: Integer, free_gb: v.number() }, "Swap space"),
    disk: v.pipe(
      v.object({ ...Sized, available_bytes: Integer, available_gb: v.number() }),
      v.description("Root filesystem, as in `/metrics/host`"),
    ),
    mounts: section({ mounts: v.array(Mount) }, "Every real mount (pseudo filesystems left out)"),
    disk_io: DiskIoSectionSchema,
    network: NetworkSectionSchema,
    sockets: SocketsSectionSchema,
    temperatures: TemperaturesSectionSchema,
    processes: ProcessesSectionSchema,
    containers: ContainersSectionSchema,
    services: ServicesSectionSchema,
    gpu: GpuSectionSchema,
  }),
  v.title("SystemMetrics"),
);
export type SystemMetricsResponse = v.InferOutput<typeof SystemMetricsResponseSchema>;

const INTERVAL_MESSAGE = "must be an integer from 1 to 60";

/** The query parameters of `GET /api/v1/nodes/{node_id}/metrics/stream`. */
export const MetricsStreamQueryParams = {
  interval: {
    schema: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,2}$/, INTERVAL_MESSAGE),
        v.transform(Number),
        v.minValue(1, INTERVAL_MESSAGE),
        v.maxValue(60, INTERVAL_MESSAGE),
      ),
      "5",
    ),
    description:
      "Seconds between `metrics` events, 1–60 (default 5); the agent samples at that rate while the stream is open",
  },
} as const;
