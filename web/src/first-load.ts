// The console's first paint of the fleet page waits on one request: the nodes list. This module is
// evaluated before anything renders, and starts that request at once when the page opened is the
// fleet page and a credential is stored; the page takes the answer instead of asking again. Every
// other request of a first load (who is signed in, the summary counts, each row's latest metrics)
// waits for `firstLoadSettled()`, so none of them competes with the list on the server or in the
// browser (the fleet render benchmark, bench/lib/console-render.ts).
import { currentToken, list, type Pagination } from "./api";
import { nodesRequest, pick, VIEW } from "./fleet-query";
import { BASE } from "./paths";
import type { Node } from "./types";

type NodesPage = { data: Node[]; pagination: Pagination };

let early: { url: string; answer: Promise<NodesPage> } | null = null;
let settled: Promise<void> = Promise.resolve();

const path = location.pathname.replace(/\/+$/, "");
if (currentToken() && path === BASE) {
  const query = Object.fromEntries(new URLSearchParams(location.search));
  const url = nodesRequest(pick(query, VIEW));
  const answer = list<Node>(url);
  early = { url, answer };
  // A task later, so the rows the answer brings are in the DOM before anything else starts.
  const later = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  settled = answer.then(later, later);
}

/** The nodes answer started at load for this request, once; null when there is none to take. */
export function takeEarlyNodes(url: string): Promise<NodesPage> | null {
  if (!early || early.url !== url) return null;
  const { answer } = early;
  early = null;
  return answer;
}

/** Resolves when the first load's nodes request has answered (at once when there was none). */
export function firstLoadSettled(): Promise<void> {
  return settled;
}
