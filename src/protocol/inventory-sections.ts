import * as v from "valibot";
import { count } from "./primitives";

// Each schema is built by a function, and the exported constant is that function's result, marked
// pure: the server uses the constants (built once), while the agent builds only the schema a frame
// needs when it needs it, and esbuild drops the unused constants from the agent's bundle, so an idle
// agent holds no schema (issue 25, docs/agent-footprint.md).

/**
 * The host inventory's sections and the shape of each one's data, shared by the agent (which
 * collects and validates before sending) and the server (which validates on receipt and documents
 * the REST answers with the same schemas). Objects are loose: an agent may add a field without
 * breaking an older server. Sizes are bytes, times ISO 8601 UTC or epoch ms where named `_ms`.
 */
export const INVENTORY_SECTIONS = [
  "system",
  "hardware",
  "storage",
  "network",
  "users",
  "groups",
  "software",
  "services",
  "containers",
  "children",
  "listening_ports",
  "updates",
] as const;
export type InventorySection = (typeof INVENTORY_SECTIONS)[number];

/** Sections the host's owner can turn off on the agent (`OUTPOST_INVENTORY_USERS=false`). */
export const USER_SECTIONS: readonly InventorySection[] = ["users", "groups"];

const Str = (max = 1024) => v.pipe(v.string(), v.maxLength(max));
const OptStr = (max = 1024) => v.nullable(Str(max));
const int = () => v.pipe(v.number(), v.integer());
const optCount = () => v.nullable(count());
const list = <T extends v.GenericSchema>(item: T, max: number) => v.pipe(v.array(item), v.maxLength(max));

const systemData = () =>
  v.looseObject({
    hostname: Str(255),
    os: v.looseObject({
      id: OptStr(64),
      id_like: OptStr(255),
      name: OptStr(255),
      version_id: OptStr(64),
      pretty_name: OptStr(255),
    }),
    kernel: Str(255),
    arch: Str(32),
    machine_id: OptStr(64),
    boot_time: OptStr(40),
    virtualization: OptStr(64),
    timezone: OptStr(64),
  });
export const SystemData = /* @__PURE__ */ systemData();

const hardwareData = () =>
  v.looseObject({
    cpu: v.looseObject({
      model: OptStr(255),
      vendor: OptStr(64),
      sockets: optCount(),
      cores: optCount(),
      threads: count(),
      mhz: v.nullable(v.number()),
    }),
    memory: v.looseObject({ total_bytes: count(), swap_total_bytes: count() }),
    dmi: v.looseObject({
      sys_vendor: OptStr(255),
      product_name: OptStr(255),
      bios_version: OptStr(255),
      board_name: OptStr(255),
    }),
    disks: list(
      v.looseObject({
        name: Str(64),
        size_bytes: count(),
        rotational: v.nullable(v.boolean()),
        removable: v.nullable(v.boolean()),
        model: OptStr(255),
      }),
      512,
    ),
  });
export const HardwareData = /* @__PURE__ */ hardwareData();

const storageData = () =>
  v.looseObject({
    filesystems: list(
      v.looseObject({
        device: Str(1024),
        mount_point: Str(4096),
        filesystem: Str(64),
        read_only: v.boolean(),
        total_bytes: optCount(),
        used_bytes: optCount(),
        free_bytes: optCount(),
        usage_percent: v.nullable(v.number()),
        inodes_total: optCount(),
        inodes_used: optCount(),
        /** Why the sizes are null (the mount did not answer statfs in time, permission…). */
        size_unavailable: v.optional(Str(255)),
      }),
      1024,
    ),
  });
export const StorageData = /* @__PURE__ */ storageData();

const networkData = () =>
  v.looseObject({
    interfaces: list(
      v.looseObject({
        name: Str(64),
        mac_address: OptStr(64),
        state: OptStr(32),
        mtu: v.nullable(int()),
        speed_mbps: v.nullable(int()),
        virtual: v.boolean(),
        addresses: list(
          v.looseObject({
            address: Str(64),
            family: v.picklist(["ipv4", "ipv6"]),
            netmask: Str(64),
            cidr: OptStr(80),
          }),
          256,
        ),
      }),
      1024,
    ),
    default_interface: OptStr(64),
    default_gateway: OptStr(64),
    primary_ip: OptStr(64),
    dns_servers: list(Str(64), 64),
    search_domains: list(Str(255), 64),
  });
export const NetworkData = /* @__PURE__ */ networkData();

const usersData = () =>
  v.looseObject({
    users: list(
      v.looseObject({
        username: Str(255),
        uid: int(),
        gid: int(),
        home_directory: Str(4096),
        shell: Str(4096),
        login_allowed: v.boolean(),
        is_system: v.boolean(),
        last_login: OptStr(40),
      }),
      100_000,
    ),
    /** Users from LDAP/sssd and other NSS sources are not in /etc/passwd and are not listed. */
    source: Str(64),
  });
export const UsersData = /* @__PURE__ */ usersData();

const groupsData = () =>
  v.looseObject({
    groups: list(
      v.looseObject({
        name: Str(255),
        gid: int(),
        members: list(Str(255), 100_000),
        /** Users whose primary group this is (/etc/group omits them from `members`). */
        primary_members: list(Str(255), 100_000),
      }),
      100_000,
    ),
  });
export const GroupsData = /* @__PURE__ */ groupsData();

const packageSchema = () =>
  v.looseObject({
    name: Str(255),
    version: Str(255),
    architecture: Str(64),
    status: Str(64),
    description: OptStr(512),
    installed_at: OptStr(40),
  });
export const PackageSchema = /* @__PURE__ */ packageSchema();
export type Package = v.InferOutput<typeof PackageSchema>;

export const PACKAGE_MANAGERS = ["dpkg", "rpm", "apk", "pacman"] as const;

const softwareData = () =>
  v.looseObject({
    package_manager: v.picklist(PACKAGE_MANAGERS),
    packages: list(packageSchema(), 50_000),
  });
export const SoftwareData = /* @__PURE__ */ softwareData();

const servicesData = () =>
  v.looseObject({
    manager: Str(32),
    services: list(
      v.looseObject({
        name: Str(255),
        load: OptStr(32),
        active: OptStr(32),
        sub: OptStr(32),
        enabled: OptStr(32),
        description: OptStr(512),
      }),
      10_000,
    ),
  });
export const ServicesData = /* @__PURE__ */ servicesData();

const containersData = () =>
  v.looseObject({
    engine: Str(32),
    containers: list(
      v.looseObject({
        id: Str(128),
        name: Str(255),
        image: Str(1024),
        image_id: OptStr(128),
        state: OptStr(32),
        status: OptStr(255),
        created_at: OptStr(40),
        ports: list(Str(128), 256),
        compose_project: OptStr(255),
      }),
      10_000,
    ),
  });
export const ContainersData = /* @__PURE__ */ containersData();

const listeningPortsData = () =>
  v.looseObject({
    ports: list(
      v.looseObject({
        protocol: v.picklist(["tcp", "tcp6", "udp", "udp6"]),
        address: Str(64),
        port: count(),
        pid: v.nullable(count()),
        process: OptStr(255),
        user: OptStr(255),
      }),
      10_000,
    ),
    /** False when the agent could not map sockets to processes (not root). */
    processes_resolved: v.boolean(),
  });
export const ListeningPortsData = /* @__PURE__ */ listeningPortsData();

const pendingUpdateSchema = () =>
  v.looseObject({
    name: Str(255),
    current_version: OptStr(255),
    candidate_version: Str(255),
    security: v.boolean(),
    source: OptStr(255),
  });

const updatesData = () =>
  v.looseObject({
    package_manager: v.nullable(Str(32)),
    pending: list(pendingUpdateSchema(), 50_000),
    pending_count: count(),
    security_count: count(),
    reboot_required: v.boolean(),
    reboot_required_packages: list(Str(255), 10_000),
    checked_at: Str(40),
    /** Age of the package manager's index the check used (null when unknown). */
    cache_age_seconds: optCount(),
  });
export const UpdatesData = /* @__PURE__ */ updatesData();
export type UpdatesData = v.InferOutput<typeof UpdatesData>;

export const CHILD_TYPES = ["lxd", "incus", "docker", "podman", "libvirt", "nspawn"] as const;
export type ChildType = (typeof CHILD_TYPES)[number];
export const CHILD_STATUSES = ["running", "stopped", "paused", "unknown"] as const;

/**
 * A name the orchestrated reboot may pass to an engine's CLI (always quoted, never an option):
 * children named otherwise are listed but cannot be orchestrated.
 */
export const CHILD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const childSchema = () =>
  v.looseObject({
    /** `<child_type>:<child_name>`: stable across a container being recreated under the same name. */
    id: Str(200),
    child_name: Str(255),
    child_type: v.picklist(CHILD_TYPES),
    status: v.picklist(CHILD_STATUSES),
    /** Whether the engine starts it at boot by itself (null when the engine does not say). */
    autostart: v.nullable(v.boolean()),
  });
export const ChildSchema = /* @__PURE__ */ childSchema();
export type Child = v.InferOutput<typeof ChildSchema>;

/** Child hosts (containers and VMs) on this machine, from every engine that answered (C10). */
const childrenData = () =>
  v.looseObject({
    children: list(childSchema(), 10_000),
    /** The engines that answered (empty: no container or VM engine on this host). */
    engines: list(v.picklist(CHILD_TYPES), CHILD_TYPES.length),
  });
export const ChildrenData = /* @__PURE__ */ childrenData();
export type ChildrenData = v.InferOutput<typeof ChildrenData>;

/** Builds one section's data schema (the agent builds it per collection, so an idle agent holds none). */
const SECTION_DATA_FACTORIES: { [S in InventorySection]: () => v.GenericSchema } = {
  system: systemData,
  hardware: hardwareData,
  storage: storageData,
  network: networkData,
  users: usersData,
  groups: groupsData,
  software: softwareData,
  services: servicesData,
  containers: containersData,
  listening_ports: listeningPortsData,
  updates: updatesData,
  children: childrenData,
};

/** A new data schema for `section`: garbage once its caller is done with it. */
export const sectionDataSchema = (section: InventorySection): v.GenericSchema =>
  SECTION_DATA_FACTORIES[section]();

/** The data schema of every section, built once (the server validates every report with them). */
export const SECTION_DATA: { [S in InventorySection]: v.GenericSchema } = {
  system: SystemData,
  hardware: HardwareData,
  storage: StorageData,
  network: NetworkData,
  users: UsersData,
  groups: GroupsData,
  software: SoftwareData,
  services: ServicesData,
  containers: ContainersData,
  listening_ports: ListeningPortsData,
  updates: UpdatesData,
  children: ChildrenData,
};

/** One section as the agent reports it: its data, or why it is unavailable. */
export type SectionReport =
  | { status: "ok"; data: Record<string, unknown> }
  | { status: "unavailable"; reason: string };
