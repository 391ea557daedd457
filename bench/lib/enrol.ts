// 0. Enrolment as a cluster fills. N agents enrol into one empty cluster through
// POST /agent/v1/enroll (the real agent's enrol code, 16 at a time, as the swarm does for fan-out),
// and the latency of the first 10 % of enrolments is compared with the last 10 %. Enrolment used to
// read every member's address inside its write transaction, so its cost grew with the cluster
// (issue 23); the goal is that the last 10 % cost no more than 1.2× the first.
import { apiClient, clusterWithKey } from "./api";
import { startBenchStack } from "./bench-stack";
import { type ProfileSummary, profileMarkdown, startProfile } from "./inspector";
import { ratio, round, summarize } from "./stats";
import { ENROL_CONCURRENCY, SWARM_ENV, Swarm } from "./swarm-client";
import { type BenchResult, type Goal, type Mode, table } from "./types";

export interface EnrolOptions {
  /** Nodes to enrol into the one cluster (default 2,000; quick 300). */
  count?: number;
}

/** Largest ratio of last-10 % p50 to first-10 % p50 that still meets the goal. */
const GOAL_RATIO = 1.2;

export async function enrolment(mode: Mode, options: EnrolOptions = {}): Promise<BenchResult> {
  const count = options.count ?? (mode.quick ? 300 : 2000);
  const stack = await startBenchStack({ env: SWARM_ENV });
  const api = apiClient(() => stack.url);
  const swarm = await Swarm.start();
  const notes: string[] = [];
  let profiles: ProfileSummary[] = [];
  let run: Awaited<ReturnType<Swarm["enroll"]>>;
  try {
    // A /20 holds 4,093 hosts: room for the largest run with no range pressure.
    const key = await clusterWithKey(api, "filling", "100.64.0.0/20");
    const pids = await stack.pids();
    const stopProfile = mode.profile
      ? await startProfile(pids.workerd[0], `${mode.filePrefix}-enrol`, `${stack.url}/health`).catch((e) => {
          notes.push(`profile: ${e.message}`);
          return undefined;
        })
      : undefined;
    mode.log(`  enrolling ${count} nodes into one cluster, ${ENROL_CONCURRENCY} at a time`);
    run = await swarm.enroll(key, count, ENROL_CONCURRENCY, mode.quick ? 300_000 : 20 * 60_000);
    if (stopProfile) profiles = await stopProfile();
    // What a failed enrolment answered: the figure alone cannot tell a 409 from a timeout.
    if (run.failed) {
      const samples = (await swarm.stats()).error_samples.filter((e) => e.startsWith("enrol"));
      notes.push(...samples.slice(0, 5).map((e) => `swarm: ${e}`));
    }
  } finally {
    await swarm.stop().catch(() => {});
    await stack.stop().catch(() => {});
  }
  // Latencies are in the order the enrolments started, which is the order the cluster filled in.
  const tenth = Math.max(1, Math.floor(run.latencies.length / 10));
  const first = summarize(run.latencies.slice(0, tenth));
  const last = summarize(run.latencies.slice(-tenth));
  const all = summarize(run.latencies);
  const growth = ratio(last.p50, first.p50);
  mode.log(
    `  enrolled ${run.enrolled}/${count} in ${round(run.ms / 1000, 1)} s; p50 first 10 % ${first.p50} ms, last 10 % ${last.p50} ms (${growth}×)`,
  );
  if (run.failed) notes.push(`${run.failed} enrolments failed`);
  const goals: Goal[] = [
    {
      what: `enrolment p50, last 10 % / first 10 % of a ${count.toLocaleString("en")}-node cluster`,
      goal: `≤ ${GOAL_RATIO}×`,
      value: `${growth}× (${last.p50} / ${first.p50} ms)`,
      met: run.enrolled === count ? growth <= GOAL_RATIO : false,
    },
  ];
  return {
    name: "enrol",
    title: "0. Enrolment as a cluster fills",
    markdown: [
      table(
        ["enrolments", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        [
          [`first 10 % (${first.n})`, first.p50, first.p90, first.p99, first.max],
          [`last 10 % (${last.n})`, last.p50, last.p90, last.p99, last.max],
          [`all (${all.n})`, all.p50, all.p90, all.p99, all.max],
        ],
      ),
      "",
      `${run.enrolled} of ${count} enrolled in ${round(run.ms / 1000, 1)} s (${round(run.enrolled / (run.ms / 1000), 1)}/s), ${ENROL_CONCURRENCY} at a time, into one empty cluster (a /20).`,
      "",
      ...profileMarkdown([{ label: "enrolment", profiles }]),
    ],
    goals,
    notes,
    data: { count, first, last, all, growth, enrolled: run.enrolled, failed: run.failed, ms: run.ms },
  };
}
