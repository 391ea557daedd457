export const CONSOLE_DIR: string;
export function compressedJsBytes(dir?: string): Promise<number>;
export function buildConsole(options?: {
  force?: boolean;
}): Promise<{ dir: string; built: boolean; jsGzipBytes: number }>;
