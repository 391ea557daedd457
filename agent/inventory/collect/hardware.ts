import { readdir } from "node:fs/promises";
import { readLine, readText } from "../budget";
import { meminfoBytes, parseCpuinfo } from "../parse/cpu-memory";

const DMI = "/sys/class/dmi/id";

// Whole disks only: partitions, loop devices, RAM disks and device-mapper nodes are not hardware.
const VIRTUAL_BLOCK = /^(loop|ram|zram|dm-|sr|fd|nbd)/;

async function disks() {
  let names: string[];
  try {
    names = await readdir("/sys/block");
  } catch {
    return [];
  }
  const out = [];
  for (const name of names.filter((n) => !VIRTUAL_BLOCK.test(n)).sort()) {
    const sectors = Number((await readLine(`/sys/block/${name}/size`)) ?? "0");
    const rotational = await readLine(`/sys/block/${name}/queue/rotational`);
    const removable = await readLine(`/sys/block/${name}/removable`);
    out.push({
      name,
      // /sys/block/*/size counts 512-byte sectors whatever the device's own sector size.
      size_bytes: sectors * 512,
      rotational: rotational === null ? null : rotational === "1",
      removable: removable === null ? null : removable === "1",
      model: await readLine(`/sys/block/${name}/device/model`),
    });
  }
  return out;
}

/** `hardware`: CPU, memory, DMI (vendor, product, BIOS, board) and whole disks. */
export async function collectHardware() {
  const cpu = parseCpuinfo((await readText("/proc/cpuinfo")) ?? "");
  const meminfo = (await readText("/proc/meminfo")) ?? "";
  return {
    cpu: {
      model: cpu.model,
      vendor: cpu.vendor,
      sockets: cpu.sockets,
      cores: cpu.cores,
      threads: cpu.threads,
      mhz: cpu.mhz === null ? null : Math.round(cpu.mhz),
    },
    memory: {
      total_bytes: meminfoBytes(meminfo, "MemTotal"),
      swap_total_bytes: meminfoBytes(meminfo, "SwapTotal"),
    },
    dmi: {
      sys_vendor: await readLine(`${DMI}/sys_vendor`),
      product_name: await readLine(`${DMI}/product_name`),
      bios_version: await readLine(`${DMI}/bios_version`),
      board_name: await readLine(`${DMI}/board_name`),
    },
    disks: await disks(),
  };
}
