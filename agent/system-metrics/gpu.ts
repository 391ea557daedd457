import { readdir } from "node:fs/promises";
import { type GpuSection, SYSTEM_LIMITS } from "../../src/protocol/system-metrics";
import { readLine, runCommand } from "../inventory/budget";

type Gpu = Extract<GpuSection, { available: true }>["gpus"][number];

/** The query `nvidia-smi` answers in CSV (units off: MiB, %, °C, W). */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw",
  "--format=csv,noheader,nounits",
];

function num(text: string | undefined): number | null {
  const value = Number(text?.trim());
  return text !== undefined && text.trim() !== "" && Number.isFinite(value) ? value : null;
}

/** `nvidia-smi` CSV → GPUs; "[N/A]" and "[Not Supported]" fields become null. */
export function parseNvidiaSmi(text: string): Gpu[] {
  const out: Gpu[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(",").map((s) => s.trim());
    if (f.length < 7 || num(f[0]) === null) continue;
    const mib = (s: string) => (num(s) === null ? null : Math.round((num(s) as number) * 1024 * 1024));
    const util = num(f[2]);
    out.push({
      index: num(f[0]) as number,
      name: f[1].slice(0, 255),
      vendor: "nvidia",
      utilization_percent: util === null ? null : Math.max(0, Math.min(100, util)),
      memory_used_bytes: mib(f[3]),
      memory_total_bytes: mib(f[4]),
      temperature_celsius: num(f[5]),
      power_watts: num(f[6]),
    });
  }
  return out;
}

/** AMD GPUs through amdgpu's sysfs files (`gpu_busy_percent`, `mem_info_vram_*`). */
async function amdGpus(root: string): Promise<Gpu[]> {
  let cards: string[];
  try {
    cards = (await readdir(`${root}/sys/class/drm`)).filter((c) => /^card\d+$/.test(c));
  } catch {
    return [];
  }
  const out: Gpu[] = [];
  for (const card of cards.sort()) {
    const dir = `${root}/sys/class/drm/${card}/device`;
    if ((await readLine(`${dir}/vendor`)) !== "0x1002") continue;
    const busy = num((await readLine(`${dir}/gpu_busy_percent`)) ?? undefined);
    out.push({
      index: Number(card.slice(4)),
      name: (await readLine(`${dir}/product_name`)) ?? "AMD GPU",
      vendor: "amd",
      utilization_percent: busy === null ? null : Math.max(0, Math.min(100, busy)),
      memory_used_bytes: num((await readLine(`${dir}/mem_info_vram_used`)) ?? undefined),
      memory_total_bytes: num((await readLine(`${dir}/mem_info_vram_total`)) ?? undefined),
      temperature_celsius: null,
      power_watts: null,
    });
  }
  return out;
}

/** GPUs from `nvidia-smi` when it is on the PATH, and AMD's sysfs files. */
export async function collectGpu(root = ""): Promise<GpuSection> {
  const smi = await runCommand("nvidia-smi", NVIDIA_SMI_ARGS, { timeoutMs: 5_000, maxBytes: 64 * 1024 });
  const gpus = [...(smi?.code === 0 ? parseNvidiaSmi(smi.stdout) : []), ...(await amdGpus(root))];
  if (gpus.length === 0) return { available: false, reason: "no GPU found (nvidia-smi, amdgpu sysfs)" };
  return { available: true, gpus: gpus.slice(0, SYSTEM_LIMITS.gpus) };
}
