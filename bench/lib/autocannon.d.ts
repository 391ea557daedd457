// autocannon ships no types; the benchmarks use its promise API only.
declare module "autocannon" {
  const autocannon: (options: Record<string, unknown>) => Promise<any>;
  export default autocannon;
}
