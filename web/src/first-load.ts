// The console's first paint of the fleet page waits on one request: the nodes list. The page's inline
// script (web/index.html) sends it while the page is still being parsed and reads its JSON as it
// arrives; this module, evaluated before anything renders, takes that request when its URL is the one
// this view asks (or sends it itself, e.g. when the inline script did not run), and the page takes the
// answer instead of asking again: already parsed, its first render shows the rows. Every other request
// of a first load (who is signed in, the summary counts, each row's latest metrics) waits for
// `firstLoadSettled()`, so none of them competes with the list on the server or in the browser (the
// fleet render benchmark, bench/lib/console-render.ts).
import { currentToken, list, listFromEarly, listOf, type Pagination } from "./api";
import { nodesRequest, pick, VIEW } from "./fleet-query";
import type { FirstAnswer } from "./hooks";
import { BASE } from "./paths";
import type { Node } from "./types";

type NodesPage = { data: Node[]; pagination: Pagination };

// User Timing marks of a first load, read by the fleet render benchmark to say where the time between
// the nodes answer and the rows went: the bundle evaluated (this module runs first), the answer's JSON
// read and handed to the page.
const SCRIPT_MARK = "outpost:script-run";
const ANSWER_MARK = "outpost:nodes-answer";
performance.mark(SCRIPT_MARK);

/** What the inline script of web/index.html leaves: the nodes request it sent, its body once read. */
interface SentEarly {
  url: string;
  answer: Promise<unknown>;
  value?: unknown;
}

let early: (FirstAnswer<NodesPage> & { url: string }) | null = null;
let settled: Promise<void> = Promise.resolve();

const holder = window as { __outpostEarlyNodes?: SentEarly };
const sent = holder.__outpostEarlyNodes;
delete holder.__outpostEarlyNodes;

const path = location.pathname.replace(/\/+$/, "");
let used = false;
if (currentToken() && path === BASE) {
  const query = Object.fromEntries(new URLSearchParams(location.search));
  const url = nodesRequest(pick(query, VIEW));
  used = sent?.url === url;
  const answer = sent && used ? listFromEarly<Node>(sent.answer) : list<Node>(url);
  answer.then(
    () => performance.mark(ANSWER_MARK),
    () => undefined,
  );
  const taken = Object.assign(keptOnceAnswered(answer), { url });
  if (sent && used && sent.value !== undefined) taken.value = listOf<Node>(sent.value);
  early = taken;
  settled = settledAfter(answer);
}
// Sent for another view than this one (the inline script and nodesRequest() disagree): unread.
if (sent && !used) sent.answer.catch(() => undefined);

/**
 * The nodes answer started at load for this request, once; null when there is none to take. `value`
 * is there once the answer has arrived.
 */
export function takeEarlyNodes(url: string): FirstAnswer<NodesPage> | null {
  if (!early || early.url !== url) return null;
  const taken = early;
  early = null;
  return taken;
}

/**
 * A request's answer, its value kept once it arrives, so a page rendered after the answer shows it in
 * its first render (`useLoad`'s `first`).
 */
export function keptOnceAnswered<T>(answer: Promise<T>): FirstAnswer<T> {
  const kept: FirstAnswer<T> = { answer };
  answer.then(
    (value) => {
      kept.value = value;
    },
    () => undefined,
  );
  return kept;
}

/**
 * Resolves a task after `answer` settles (either way), so the rows it brings are in the DOM before
 * whatever waits on this starts.
 */
export function settledAfter(answer: Promise<unknown>): Promise<void> {
  const later = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  return answer.then(later, later);
}

/** Resolves when the first load's nodes request has answered (at once when there was none). */
export function firstLoadSettled(): Promise<void> {
  return settled;
}
