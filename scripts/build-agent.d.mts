export interface AgentBuild {
  outfile: string;
  version: string;
  sha256: string;
}
/** Builds the agent bundle and its `.sha256` file. */
export function buildAgent(options?: { outfile?: string; version?: string }): Promise<AgentBuild>;
/** Copies a build, its release record and install.sh into the Worker's asset folder (default dist/public/agent). */
export function publishRelease(build: AgentBuild, dir?: string): Promise<void>;
/** Whether the bundle (and, for the default one, its published release) is newer than every input. */
export function isFresh(outfile?: string): Promise<boolean>;
export const PUBLISHED_RELEASE: string;
export const AGENT_NODE_MAJOR: number;
