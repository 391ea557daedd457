// Types for sql.mjs (plain ESM JavaScript, no build step).

export interface Token {
  kind: "ws" | "semi" | "word" | "var" | "other";
  start: number;
  end: number;
}

export function tokenize(sql: string): Generator<Token>;

/** Splits a script into its statements, each with its trailing ";" if any. */
export function splitStatements(sql: string): string[];

export function analyzeStatement(sql: string): {
  params: (string | null)[];
  firstWord: string | null;
  words: Set<string>;
};

/** "ATTACH", "DETACH" or "VACUUM INTO" when `sql` holds such a statement, else null. */
export function refusedStatement(sql: string): string | null;
