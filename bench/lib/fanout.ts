// 2. Fan-out. A swarm with N agent connections (real agent connection/protocol code, exec answered
// in-process). N escalates (100, 1,000, 2,500, 5,000, 10,000) on one stack, enrolling only the new
// nodes, and stops at the first step that fails or exceeds its time bound. Measured per step: POST
// /api/v1/commands {targeting: all} → all N executions `completed` (GET /commands/{id}/summary
// polled every 100 ms), executions/s, peak RSS of workerd and of the swarm during the step. At the
// repeat step, five fan-outs in all (spread) and the summary's latency under them against idle.
import { type Api, apiClient, clusterWithKey, must } from "./api";
import { type BenchStack, probeWindow, startBenchStack } from "./bench-stack";
import { fanoutResult, IDLE_READS, REPEATS, type Repeat, type RepeatRun, type Step } from "./fanout-report";
import { type ProfileSummary, startProfile } from "./inspector";
import { openFileCount, openFileLimit, ProcSampler, schedSeconds } from "./proc";
import { waitQuiet } from "./quiet";
import { seedNodes } from "./seed-nodes";
import { mb, ratio, round, sleep, summarize } from "./stats";
import { ENROL_CONCURRENCY, SWARM_ENV, Swarm } from "./swarm-client";
import type { BenchResult, Mode } from "./types";

export interface FanoutOptions {
  steps?: number[];
  /** "api" (default): every node through POST /agent/v1/enroll; "direct": the first through the API, the rest inserted into libSQL. */
  enrol?: "api" | "direct";
  /** Bound for one fan-out (POST → all completed). */
  boundMs?: number;
  /** The step at which five fan-outs are timed (spread) and the summary's latency is compared with idle. */
  repeatAt?: number;
  /**
   * The swarm agents' heartbeat interval (default 15 s, the agent's). An experiment's knob: below
   * workerd's 10 s eviction of idle actors, no session is evicted between two heartbeats.
   */
  heartbeatSeconds?: number;
  /**
   * Seconds every timed fan-out waits after the previous activity ended (the connect wave, the
   * previous fan-out's last completion), on top of the quiet wait: an experiment's knob. A fan-out
   * 10–12 s after the previous one meets workerd evicting all the sessions that one woke.
   */
  restSeconds?: number;
}

/** Sleeps until `seconds` after `since` (ms), if that is still ahead. */
async function restUntil(since: number, seconds: number | undefined): Promise<void> {
  if (seconds === undefined) return;
  const left = since + seconds * 1000 - Date.now();
  if (left > 0) await sleep(left);
}

/**
 * Polls the command's summary until `n` executions completed. Every poll's latency goes into
 * `latencies`: the summary read under the fan-out's result writes (issue 23 item 4).
 */
async function waitCompleted(
  api: Api,
  commandId: string,
  n: number,
  boundMs: number,
  latencies: number[] = [],
) {
  const started = performance.now();
  let last: any;
  while (performance.now() - started < boundMs) {
    const t = performance.now();
    // A read that timed out counts at the time it waited: it is the latency the caller saw.
    const r = await api("GET", `/api/v1/commands/${commandId}/summary`).catch(() => null);
    latencies.push(performance.now() - t);
    if (r?.status === 200) {
      last = r.json.data;
      if (last.counts.completed >= n) return { ms: performance.now() - started, summary: last };
    }
    await sleep(100);
  }
  return { ms: null, summary: last };
}

/** `POST /api/v1/commands` of `true` to every node; throws when it is not accepted. */
function postToAll(postApi: Api): Promise<any> {
  return must(
    postApi("POST", "/api/v1/commands", {
      command_text: "true",
      targeting: { type: "all" },
      timeout: 600_000,
    }),
    "POST /commands (all)",
  );
}

/**
 * POST a command to every node and wait for all `n` to complete: seconds, or null past the bound or
 * when the POST failed (`error` says which; a failed repeat is reported, not thrown).
 */
async function timedFanout(api: Api, postApi: Api, n: number, boundMs: number, latencies: number[]) {
  const t0 = Date.now();
  let cmd: any;
  try {
    cmd = await postToAll(postApi);
  } catch (err) {
    return {
      id: null,
      seconds: null,
      post_ms: Date.now() - t0,
      error: `POST failed after ${Date.now() - t0} ms: ${(err as Error).message}`,
    };
  }
  const post_ms = Date.now() - t0;
  const done = await waitCompleted(api, cmd.id, n, boundMs, latencies);
  return {
    id: cmd.id as string,
    seconds: done.ms === null ? null : round((Date.now() - t0) / 1000, 2),
    post_ms,
    error:
      done.ms === null
        ? `not completed within ${boundMs / 1000} s (${JSON.stringify(done.summary?.counts ?? null)})`
        : undefined,
  };
}

/** Sequential reads of a finished command's summary with nothing else running: the baseline. */
async function idleSummary(api: Api, commandId: string) {
  const latencies: number[] = [];
  for (let i = 0; i < IDLE_READS; i++) {
    const t = performance.now();
    await api("GET", `/api/v1/commands/${commandId}/summary`);
    latencies.push(performance.now() - t);
    await sleep(20);
  }
  return summarize(latencies);
}

export async function fanout(mode: Mode, options: FanoutOptions = {}): Promise<BenchResult> {
  const steps = options.steps ?? (mode.quick ? [50, 200] : [100, 1000, 2500, 5000, 10000]);
  const boundMs = options.boundMs ?? (mode.quick ? 60_000 : 120_000);
  const stack: BenchStack = await startBenchStack({ env: SWARM_ENV });
  const api = apiClient(() => stack.url);
  // The fan-out's POST may take long on a loaded stack: it counts in the fan-out's time, up to the bound.
  const postApi = apiClient(() => stack.url, boundMs);
  const swarm = await Swarm.start();
  const results: Step[] = [];
  const profiles: { n: number; label?: string; profiles: ProfileSummary[] }[] = [];
  const connectProfiles: { n: number; profiles: ProfileSummary[] }[] = [];
  const notes: string[] = [];
  let stoppedBecause = "";
  const repeatAt = options.repeatAt ?? (mode.quick ? 200 : 1000);
  let repeat: Repeat | undefined;
  try {
    const key = await clusterWithKey(api, "fleet", "100.64.0.0/16");
    const pids = await stack.pids();
    // A profile that cannot start is a note, not a failed benchmark.
    const profileWindow = (label: string) =>
      mode.profile
        ? startProfile(pids.workerd[0], `${mode.filePrefix}-${label}`, `${stack.url}/health`).catch((e) => {
            notes.push(`profile: ${e.message}`);
            return undefined;
          })
        : Promise.resolve(undefined);
    // Each connected agent holds workerd descriptors (its socket; its NodeSession's SQLite file, WAL
    // and shared memory). Past the process's limit workerd's accept() fails and the runtime restarts,
    // dropping every agent, so a step that cannot fit is reported, not attempted.
    const baselineFds = openFileCount(pids.workerd[0]);
    let fdsPerAgent: number | null = null;
    for (const n of steps) {
      const fdLimit = openFileLimit(pids.workerd[0]);
      if (fdsPerAgent && fdLimit && baselineFds + n * fdsPerAgent > fdLimit * 0.95) {
        const status = `not attempted: needs ~${Math.round(baselineFds + n * fdsPerAgent)} open files in workerd (${round(fdsPerAgent, 1)} per agent measured), its limit is ${fdLimit}`;
        notes.push(`N=${n}: ${status}`);
        stoppedBecause = `N=${n}: ${status}`;
        break;
      }
      const have = (await swarm.stats()).identities;
      const enrolBound = mode.quick ? 120_000 : 20 * 60_000;
      let enrol: { enrolled: number; failed: number; ms: number; latencies: number[]; total: number };
      if (options.enrol === "direct" && have > 0) {
        mode.log(`  N=${n}: inserting ${n - have} nodes directly into libSQL`);
        const t = performance.now();
        const template = (await swarm.identities())[0].node_id;
        const added = await seedNodes(stack, template, n - have);
        await swarm.adopt(added);
        enrol = {
          enrolled: added.length,
          failed: 0,
          ms: performance.now() - t,
          latencies: [],
          total: have + added.length,
        };
      } else {
        mode.log(`  N=${n}: enrolling ${n - have} nodes through the API`);
        enrol = await swarm.enroll(
          key,
          options.enrol === "direct" ? 1 : n - have,
          ENROL_CONCURRENCY,
          enrolBound,
        );
        if (options.enrol === "direct" && n - have > 1) {
          const t = performance.now();
          const template = (await swarm.identities())[0].node_id;
          const added = await seedNodes(stack, template, n - have - 1);
          await swarm.adopt(added);
          enrol = {
            ...enrol,
            enrolled: enrol.enrolled + added.length,
            ms: enrol.ms + performance.now() - t,
            total: enrol.total + added.length,
          };
        }
      }
      const lat = summarize(enrol.latencies);
      mode.log(
        `  N=${n}: ${enrol.total} nodes (${enrol.enrolled} new in ${round(enrol.ms / 1000, 1)} s, p50 ${lat.p50} ms, p99 ${lat.p99} ms, failed ${enrol.failed}); connecting`,
      );
      const step: Step = {
        n,
        enrol_ms: Math.round(enrol.ms),
        enrol_failed: enrol.failed,
        enrol_p50_ms: lat.p50,
        enrol_p99_ms: lat.p99,
        connect_ms: 0,
        ready: 0,
        post_ms: 0,
        completed: 0,
        seconds: null,
        exec_per_s: null,
        first_exec_s: null,
        last_exec_s: null,
        workerd_peak_mb: 0,
        swarm_peak_mb: 0,
        libsql_statements: 0,
        status: "ok",
      };
      results.push(step);
      if (enrol.failed) {
        const samples = (await swarm.stats()).error_samples.filter((e) => e.startsWith("enrol"));
        notes.push(`N=${n}: ${enrol.failed} enrolments failed, e.g. ${samples.slice(0, 2).join(" | ")}`);
      }
      // Fewer nodes than planned (failed enrolments): measure with what there is if ≥ 99 %.
      if (enrol.total < n * 0.99) {
        step.status = `enrolment incomplete (${enrol.total}/${n})`;
        stoppedBecause = `N=${n}: ${step.status}`;
        break;
      }
      if (enrol.total < n) step.status = `ok with ${enrol.total} nodes`;
      const target = enrol.total;
      // Bounded by N: connecting is limited by the Worker's one thread (each hello is a Worker
      // request, a DO wake and a libSQL batch, while the already connected agents heartbeat).
      const stopConnectProfile = await profileWindow(`connect-${n}`);
      // 300 ms per agent: a loaded 2-core machine connected 471 of 1,000 in the old 100 s bound.
      const conn = await swarm.connect(target, {
        timeoutMs: mode.quick ? 120_000 : 60_000 + target * 300,
        heartbeatSeconds: options.heartbeatSeconds,
      });
      if (stopConnectProfile) connectProfiles.push({ n, profiles: await stopConnectProfile() });
      step.connect_ms = Math.round(conn.ms);
      step.ready = conn.ready;
      const readyAt = Date.now();
      mode.log(`  N=${n}: ${conn.ready} ready in ${round(conn.ms / 1000, 1)} s; fan-out`);
      if (conn.ready < target) {
        step.status = `only ${conn.ready}/${target} connected`;
        step.error_samples = (await swarm.stats()).error_samples;
        notes.push(...step.error_samples.slice(0, 5).map((e) => `swarm: ${e}`));
        notes.push(`stack output tail: ${stack.stack.output().slice(-1500).replace(/\s+/g, " ")}`);
        stoppedBecause = `N=${n}: ${step.status}`;
        break;
      }
      step.workerd_open_files = openFileCount(pids.workerd[0]);
      fdsPerAgent = Math.max(0, step.workerd_open_files - baselineFds) / target;
      // The connect wave's writes drain before the clock starts (see bench/README, "Spread").
      const quiet = await waitQuiet(stack, target);
      await restUntil(readyAt, options.restSeconds);
      step.quiet_wait_ms = quiet.waited_ms;
      mode.log(
        `  N=${n}: ${quiet.quiet ? "quiet" : "not quiet"} after ${round(quiet.waited_ms / 1000, 1)} s (libSQL writes per 3 s: ${quiet.windows.join(", ")}; bound ${quiet.bound})`,
      );
      if (!quiet.quiet)
        notes.push(
          `N=${n}: writes did not fall to ${quiet.bound} per 3 s within 120 s (${quiet.windows.join(", ")})`,
        );
      await swarm.resetTotals();
      const p0 = await stack.probeSettled();
      const probeBefore = p0?.statements ?? 0;
      const requestsBefore = p0?.http_requests ?? 0;
      const msBefore = p0?.http_ms ?? 0;
      const sampler = new ProcSampler(
        {
          workerd: pids.workerd,
          proxy: pids.proxy,
          libsql: pids.libsql,
          wrangler: pids.wrangler,
          swarm: swarm.pid,
        },
        200,
      );
      const stopProfile = await profileWindow(`fanout-${n}`);
      const firstSched = schedSeconds(pids.workerd[0]);
      const t0 = Date.now();
      let cmd: any;
      try {
        cmd = await postToAll(postApi);
      } catch (err) {
        // Reported as the step's outcome, keeping the steps and repeats measured before it.
        sampler.stop();
        if (stopProfile) profiles.push({ n, profiles: await stopProfile() });
        step.post_ms = Date.now() - t0;
        step.status = `POST failed after ${step.post_ms} ms: ${(err as Error).message}`;
        stoppedBecause = `N=${n}: ${step.status}`;
        mode.log(`  N=${n}: ${step.status}`);
        break;
      }
      step.post_ms = Date.now() - t0;
      const busyReads: number[] = [];
      const done = await waitCompleted(api, cmd.id, target, boundMs, busyReads);
      let lastEndedAt = Date.now();
      const mem = sampler.stop();
      const firstSchedEnd = schedSeconds(pids.workerd[0]);
      const firstWall = (Date.now() - t0) / 1000;
      const firstWorkerdSched = {
        run_percent: Math.round(((firstSchedEnd.run - firstSched.run) / firstWall) * 100),
        wait_percent: Math.round(((firstSchedEnd.wait - firstSched.wait) / firstWall) * 100),
      };
      if (stopProfile) profiles.push({ n, profiles: await stopProfile() });
      const s = await swarm.stats();
      step.completed = done.summary?.counts?.completed ?? 0;
      step.workerd_peak_mb = mb(mem.workerd.peak_rss);
      step.swarm_peak_mb = mb(mem.swarm.peak_rss);
      step.cpu = Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, Math.round(v.cpu_percent)]));
      const p1 = await stack.probeSettled();
      const firstWindow = probeWindow(p0, p1);
      step.libsql_requests = (p1?.http_requests ?? 0) - requestsBefore;
      step.libsql_server_ms = Math.round((p1?.http_ms ?? 0) - msBefore);
      step.first_exec_s = s.first_exec_at ? round((s.first_exec_at - t0) / 1000, 2) : null;
      step.last_exec_s = s.last_exec_at ? round((s.last_exec_at - t0) / 1000, 2) : null;
      step.libsql_statements = ((await stack.probeSettled())?.statements ?? 0) - probeBefore;
      if (done.ms === null) {
        step.status = `not completed within ${boundMs / 1000} s (${step.completed}/${n})`;
        step.error_samples = s.error_samples;
        stoppedBecause = `N=${n}: ${step.status}`;
        mode.log(`  N=${n}: ${step.status}; summary ${JSON.stringify(done.summary?.counts)}`);
        break;
      }
      step.seconds = round((step.post_ms + done.ms) / 1000, 2);
      step.exec_per_s = round(target / step.seconds, 0);
      mode.log(
        `  N=${n}: all completed in ${step.seconds} s (${step.exec_per_s}/s), workerd peak ${step.workerd_peak_mb} MB, swarm peak ${step.swarm_peak_mb} MB`,
      );
      if (n === repeatAt) {
        await sleep(2000);
        const idle = await idleSummary(api, cmd.id);
        const seconds = [step.seconds];
        const runs: RepeatRun[] = [
          {
            seconds: step.seconds,
            post_ms: step.post_ms,
            after_previous_s: round((t0 - readyAt) / 1000, 1),
            first_exec_s: step.first_exec_s,
            last_exec_s: step.last_exec_s,
            libsql: firstWindow,
            cpu: step.cpu,
            workerd_sched: firstWorkerdSched,
          },
        ];
        for (let i = 1; i < REPEATS; i++) {
          // Each fan-out starts as the first did: once the previous one's writes have drained.
          await waitQuiet(stack, target);
          await restUntil(lastEndedAt, options.restSeconds);
          const before = await stack.probeSettled();
          const repSampler = new ProcSampler(
            { workerd: pids.workerd, libsql: pids.libsql, swarm: swarm.pid },
            500,
          );
          const stopRepeatProfile = await profileWindow(`fanout-${n}-repeat-${i + 1}`);
          await swarm.resetTotals();
          const sched0 = schedSeconds(pids.workerd[0]);
          const t0 = Date.now();
          const afterPrevious = round((t0 - lastEndedAt) / 1000, 1);
          const again = await timedFanout(api, postApi, target, boundMs, busyReads);
          lastEndedAt = Date.now();
          const sched1 = schedSeconds(pids.workerd[0]);
          const wall = (Date.now() - t0) / 1000;
          const repCpu = repSampler.stop();
          const execs = await swarm.stats();
          if (stopRepeatProfile)
            profiles.push({ n, label: `repeat ${i + 1}`, profiles: await stopRepeatProfile() });
          const run: RepeatRun = {
            seconds: again.seconds,
            post_ms: again.post_ms,
            after_previous_s: afterPrevious,
            first_exec_s: execs.first_exec_at ? round((execs.first_exec_at - t0) / 1000, 2) : null,
            last_exec_s: execs.last_exec_at ? round((execs.last_exec_at - t0) / 1000, 2) : null,
            error: again.error,
            workerd_sched: {
              run_percent: Math.round(((sched1.run - sched0.run) / wall) * 100),
              wait_percent: Math.round(((sched1.wait - sched0.wait) / wall) * 100),
            },
            libsql: probeWindow(before, await stack.probeSettled()),
            cpu: Object.fromEntries(Object.entries(repCpu).map(([k, v]) => [k, Math.round(v.cpu_percent)])),
          };
          runs.push(run);
          mode.log(
            `  N=${n}: repeat ${i + 1}/${REPEATS}: ${again.seconds ?? again.error} s (POST ${again.post_ms} ms, exec ${run.first_exec_s}–${run.last_exec_s} s; libSQL ${run.libsql?.statements} statements, ${run.libsql?.busy_ms} ms busy; CPU ${JSON.stringify(run.cpu)}; workerd on/waiting for a core ${JSON.stringify(run.workerd_sched)})`,
          );
          if (again.seconds === null) {
            notes.push(`N=${n}: repeat ${i + 1} failed: ${again.error}`);
            break;
          }
          seconds.push(again.seconds);
        }
        const busy = summarize(busyReads);
        repeat = {
          n,
          runs,
          seconds,
          spread: ratio(Math.max(...seconds), Math.min(...seconds)),
          summary_idle: idle,
          summary_busy: busy,
          summary_ratio_p99: ratio(busy.p99, idle.p99),
        };
        mode.log(
          `  N=${n}: spread ${repeat.spread}× over ${seconds.join(", ")} s; summary p99 ${busy.p99} ms busy vs ${idle.p99} ms idle (${repeat.summary_ratio_p99}×)`,
        );
      }
    }
  } catch (err) {
    // A failed step must not leave its stack running under the next benchmark.
    await swarm.stop().catch(() => {});
    await stack.stop().catch(() => {});
    throw err;
  } finally {
    await swarm.stop().catch(() => {});
  }
  const probe = stack.probe();
  await stack.stop();

  return fanoutResult({ results, repeat, repeatAt, notes, stoppedBecause, profiles, connectProfiles, probe });
}
