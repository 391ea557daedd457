// Experiment (issue 20): the Worker's workerd RSS around single file transfers, for comparing builds.
// A fresh stack and one real agent; OPS is a comma list run in order: D<MiB> downloads, U<MiB>
// uploads (FormData), V<MiB> uploads a streamed multipart body and says when the stack took its last
// byte against when it answered, S<seconds> idles. Each transfer prints its MB/s, the peak RSS growth
// over the RSS just before (and ÷ file size) and the RSS trace every 100 ms (MiB over the start).
//   node bench/exp/build.mjs bench/exp/reach-mem.ts bench/dist/exp-reach-mem.mjs
//   OPS=D50,D50,D50,D50 flock /tmp/outpost-bench.lock node bench/dist/exp-reach-mem.mjs
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { copyBundle, startAgent, tempDir } from "../../test/support/agent-process";
import { apiClient, clusterWithKey } from "../lib/api";
import { API_KEY, startBenchStack } from "../lib/bench-stack";
import { rssBytes } from "../lib/proc";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

async function main() {
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const work = await tempDir("outpost-exp-reach-");
  try {
    const files = join(work, "files");
    await mkdir(files);
    const key = await clusterWithKey(api, "reach", "100.81.0.0/24");
    const stateDir = join(work, "agent");
    const agent = startAgent({
      bundle: await copyBundle(work),
      stateDir,
      env: { ENROLLMENT_KEY: key, OUTPOST_ID_TYPE: "random", OUTPOST_FILE_PATHS: files },
    });
    await agent.waitFor(/INFO\s+connected/, { timeoutMs: 60_000 });
    const nodeId: string = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8")).node_id;
    const [pid] = (await stack.pids()).workerd;
    console.log("workerd", pid);
    const download = async (path: string, expect: number) => {
      const res = await fetch(`${stack.url}/api/v1/nodes/${nodeId}/files?path=${encodeURIComponent(path)}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      let got = 0;
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) got += c.length;
      if (got !== expect) throw new Error(`got ${got}`);
    };
    const upload = async (path: string, bytes: Buffer) => {
      const form = new FormData();
      form.set("dest", path);
      form.set("overwrite", "true");
      form.set("file", new File([bytes], "x.bin"));
      const res = await fetch(`${stack.url}/api/v1/nodes/${nodeId}/files`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}` },
        body: form,
      });
      if (res.status !== 201) throw new Error(`upload ${res.status} ${await res.text()}`);
    };
    const payloads = new Map<number, Buffer>();
    for (const op of (process.env.OPS ?? "U50,D50,D50,D50,U50,U50,D50").split(",")) {
      const kind = op[0];
      const mib = Number(op.slice(1));
      const path = join(files, `f${mib}.bin`);
      if (!payloads.has(mib)) {
        payloads.set(mib, randomBytes(mib * MiB));
        await writeFile(path, payloads.get(mib)!);
      }
      if (kind === "S") {
        await sleep(mib * 1000);
        console.log("slept", (rssBytes(pid) / MiB).toFixed(1));
        continue;
      }
      const before = rssBytes(pid);
      let peak = before;
      let stop = false;
      const trace: number[] = [];
      const sampler = (async () => {
        while (!stop) {
          const r = rssBytes(pid);
          trace.push(Math.round((r - before) / MiB));
          peak = Math.max(peak, r);
          await sleep(100);
        }
      })();
      const t = performance.now();
      if (kind === "U") await upload(path, payloads.get(mib)!);
      else if (kind === "V") {
        // streamed multipart body: when did the stack take the last byte, against the answer?
        const b = `----exp${Date.now()}`;
        const head = new TextEncoder().encode(
          `--${b}\r\ncontent-disposition: form-data; name="dest"\r\n\r\n${path}\r\n--${b}\r\ncontent-disposition: form-data; name="overwrite"\r\n\r\ntrue\r\n--${b}\r\ncontent-disposition: form-data; name="file"; filename="x"\r\n\r\n`,
        );
        const tail = new TextEncoder().encode(`\r\n--${b}--\r\n`);
        const data = payloads.get(mib)!;
        let at = 0;
        let lastPull = 0;
        const t0 = performance.now();
        const marks: string[] = [];
        const body = new ReadableStream<Uint8Array>(
          {
            start(c) {
              c.enqueue(head);
            },
            pull(c) {
              if (at >= data.length) {
                c.enqueue(tail);
                c.close();
                lastPull = performance.now() - t0;
                return;
              }
              c.enqueue(data.subarray(at, at + 256 * 1024));
              at += 256 * 1024;
              if (at % (10 * MiB) === 0) marks.push(`${at / MiB}MiB@${Math.round(performance.now() - t0)}`);
            },
          },
          { highWaterMark: 0 },
        );
        const res = await fetch(`${stack.url}/api/v1/nodes/${nodeId}/files`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${API_KEY}`,
            "content-type": `multipart/form-data; boundary=${b}`,
          },
          body,
          duplex: "half",
        } as RequestInit);
        const answered = performance.now() - t0;
        if (res.status !== 201) throw new Error(`upload ${res.status} ${await res.text()}`);
        console.log(
          JSON.stringify({
            streamed: mib,
            lastPullMs: Math.round(lastPull),
            answeredMs: Math.round(answered),
            marks: marks.join(" "),
          }),
        );
      } else await download(path, mib * MiB);
      const s = (performance.now() - t) / 1000;
      stop = true;
      await sampler;
      console.log(
        JSON.stringify({
          op,
          MBps: +((mib * MiB) / 1e6 / s).toFixed(1),
          before: +(before / MiB).toFixed(1),
          growthMiB: +((peak - before) / MiB).toFixed(1),
          ratio: +((peak - before) / (mib * MiB)).toFixed(2),
          afterMiB: +(rssBytes(pid) / MiB).toFixed(1),
          trace: trace.join(" "),
        }),
      );
    }
    agent.child.kill("SIGTERM");
  } finally {
    await stack.stop();
  }
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
