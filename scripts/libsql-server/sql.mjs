// Just enough of SQLite's tokenizer to split a script into statements (the
// way `sqlite3_complete()` does) and to list a statement's parameters in
// SQLite's numbering. The `libsql` npm engine exposes neither the tail of a
// prepared statement nor parameter names, and binding an object to a
// statement with a `?` parameter aborts the process, so we bind by position
// and compute the positions here.

/** @typedef {{ kind: "ws" | "semi" | "word" | "var" | "other", start: number, end: number }} Token */

const isDigit = (c) => c >= "0" && c <= "9";
const isIdStart = (c) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c > "\x7f";
const isIdChar = (c) => isIdStart(c) || isDigit(c) || c === "$";
const isSpace = (c) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f";

/**
 * Yields the tokens of `sql`. Comments count as whitespace; strings and
 * quoted identifiers are "other".
 * @param {string} sql
 * @returns {Generator<Token>}
 */
export function* tokenize(sql) {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const start = i;
    const c = sql[i];
    /** @type {Token["kind"]} */
    let kind = "other";
    if (isSpace(c)) {
      while (i < n && isSpace(sql[i])) i++;
      kind = "ws";
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
      kind = "ws";
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 2;
      kind = "ws";
    } else if (c === ";") {
      i++;
      kind = "semi";
    } else if (c === "'" || c === '"' || c === "`") {
      i++;
      while (i < n) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i = Math.min(i + 1, n);
    } else if (c === "[") {
      const close = sql.indexOf("]", i + 1);
      i = close < 0 ? n : close + 1;
    } else if (c === "?") {
      i++;
      while (i < n && isDigit(sql[i])) i++;
      kind = "var";
    } else if (c === ":" || c === "@" || c === "$" || c === "#") {
      i = scanNamedVar(sql, i);
      kind = i > start + 1 ? "var" : "other";
      if (i === start) i++;
    } else if (isIdStart(c)) {
      while (i < n && isIdChar(sql[i])) i++;
      kind = "word";
    } else if (isDigit(c) || (c === "." && isDigit(sql[i + 1] ?? ""))) {
      while (i < n && (isIdChar(sql[i]) || sql[i] === ".")) i++;
    } else {
      i++;
    }
    yield { kind, start, end: i };
  }
}

/** Scans `:name`, `@name`, `$name` (with Tcl-style `::` and `(...)` suffixes). */
function scanNamedVar(sql, start) {
  let i = start + 1;
  let named = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (isIdChar(c)) {
      named++;
      i++;
    } else if (c === "(" && named > 0) {
      let j = i + 1;
      while (j < sql.length && sql[j] !== ")" && !isSpace(sql[j])) j++;
      if (sql[j] !== ")") return start + 1;
      i = j + 1;
      break;
    } else if (c === ":" && sql[i + 1] === ":") {
      i += 2;
    } else break;
  }
  return named > 0 ? i : start + 1;
}

// sqlite3_complete()'s state machine: a ";" ends a statement unless it is
// inside CREATE [TEMP] TRIGGER ... END.
const SEMI = 0;
const WS = 1;
const OTHER = 2;
const EXPLAIN = 3;
const CREATE = 4;
const TEMP = 5;
const TRIGGER = 6;
const END = 7;
const TRANS = [
  [1, 0, 2, 3, 4, 2, 2, 2],
  [1, 1, 2, 3, 4, 2, 2, 2],
  [1, 2, 2, 2, 2, 2, 2, 2],
  [1, 3, 3, 2, 4, 2, 2, 2],
  [1, 4, 2, 2, 2, 4, 5, 2],
  [6, 5, 5, 5, 5, 5, 5, 5],
  [6, 6, 5, 5, 5, 5, 5, 7],
  [1, 7, 5, 5, 5, 5, 5, 5],
];
const KEYWORDS = {
  explain: EXPLAIN,
  create: CREATE,
  temp: TEMP,
  temporary: TEMP,
  trigger: TRIGGER,
  end: END,
};

function tokenClass(sql, token) {
  if (token.kind === "semi") return SEMI;
  if (token.kind === "ws") return WS;
  if (token.kind === "word") return KEYWORDS[sql.slice(token.start, token.end).toLowerCase()] ?? OTHER;
  return OTHER;
}

/**
 * Splits a script into its statements, each with its trailing ";" if any.
 * Pieces holding only whitespace, comments or ";" are dropped.
 * @param {string} sql
 * @returns {string[]}
 */
export function splitStatements(sql) {
  const out = [];
  let state = 0;
  let start = 0;
  let hasContent = false;
  for (const token of tokenize(sql)) {
    const cls = tokenClass(sql, token);
    state = TRANS[state][cls];
    if (cls !== WS && cls !== SEMI) hasContent = true;
    if (cls === SEMI && state === 1) {
      if (hasContent) out.push(sql.slice(start, token.end));
      start = token.end;
      hasContent = false;
    }
  }
  if (hasContent) out.push(sql.slice(start));
  return out;
}

/**
 * Describes one statement: its parameter names in SQLite's numbering
 * (`params[i]` is parameter i+1; null for a bare `?` or an unused slot) and
 * its first keyword, lower-cased.
 * @param {string} sql
 * @returns {{ params: (string | null)[], firstWord: string | null, words: Set<string> }}
 */
export function analyzeStatement(sql) {
  /** @type {(string | null)[]} */
  const params = [];
  const byName = new Map();
  let firstWord = null;
  const words = new Set();
  for (const token of tokenize(sql)) {
    if (token.kind === "word") {
      const word = sql.slice(token.start, token.end).toLowerCase();
      firstWord ??= word;
      words.add(word);
    } else if (token.kind === "other" && firstWord === null) {
      firstWord = "";
    } else if (token.kind === "var") {
      const name = sql.slice(token.start, token.end);
      if (name === "?") {
        params.push(null);
      } else if (name[0] === "?") {
        const index = Number(name.slice(1));
        if (!(index >= 1 && index <= 32766)) continue;
        while (params.length < index) params.push(null);
        if (params[index - 1] === null) params[index - 1] = name;
      } else if (!byName.has(name)) {
        params.push(name);
        byName.set(name, params.length);
      }
    }
  }
  return { params, firstWord, words };
}

const PREFIX_WORDS = new Set(["explain", "query", "plan"]);

/**
 * Names what the dev server refuses in `sql`, or returns null. ATTACH and
 * VACUUM INTO open or write any file the developer's user can reach, so a
 * client (or a web page that got through) could plant files anywhere; DETACH
 * goes with ATTACH. An EXPLAIN prefix does not make them acceptable.
 * @example refusedStatement("ATTACH '/tmp/x' AS x") // "ATTACH"
 * @param {string} sql
 * @returns {string | null}
 */
export function refusedStatement(sql) {
  for (const statement of splitStatements(sql)) {
    let verb = null;
    let into = false;
    for (const token of tokenize(statement)) {
      if (token.kind === "ws") continue;
      const word = token.kind === "word" ? statement.slice(token.start, token.end).toLowerCase() : "";
      if (verb === null) {
        if (PREFIX_WORDS.has(word)) continue;
        verb = word;
        if (verb !== "vacuum") break;
      } else if (word === "into") {
        into = true;
      }
    }
    if (verb === "attach" || verb === "detach") return verb.toUpperCase();
    if (verb === "vacuum" && into) return "VACUUM INTO";
  }
  return null;
}
