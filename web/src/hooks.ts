import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data?: T;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** An answer already on its way for the first load (`value` once it has arrived). */
export interface FirstAnswer<T> {
  answer: Promise<T>;
  value?: T;
}

/**
 * Runs `load` whenever `deps` change (and on reload()), keeping the last answer while the next loads.
 * With `first`, the first load takes that answer instead: when it has already arrived the first render
 * shows it, and otherwise it is applied the moment it arrives, not from an effect (effects run only
 * after the first paint, a frame and a task later: time the fleet render benchmark counts).
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
  first?: FirstAnswer<T> | null,
): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error: unknown; loading: boolean }>(() =>
    first?.value !== undefined
      ? { data: first.value, error: null, loading: false }
      : { error: null, loading: true },
  );
  const [tick, setTick] = useState(0);
  // Which load may still apply its answer: a later one (deps changed, reload) supersedes the rest.
  const current = useRef(0);
  const took = useRef(false);
  if (!took.current) {
    took.current = true;
    if (first && first.value === undefined) apply(first.answer, 0);
  }
  function apply(answer: Promise<T>, generation: number) {
    answer.then(
      (data) => current.current === generation && setState({ data, error: null, loading: false }),
      (error) => current.current === generation && setState((s) => ({ ...s, error, loading: false })),
    );
  }
  const started = useRef(false);
  useEffect(() => {
    // The first run is `first`'s, already taken above.
    const skip = !started.current && first;
    started.current = true;
    if (skip) return;
    const generation = ++current.current;
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    apply(load(), generation);
  }, [...deps, tick]);
  // Unmounted: no answer applies.
  useEffect(
    () => () => {
      current.current = -1;
    },
    [],
  );
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Calls `fn` every `ms` milliseconds while mounted. */
export function useInterval(fn: () => void, ms: number | null): void {
  useEffect(() => {
    if (ms === null) return;
    const id = setInterval(fn, ms);
    return () => clearInterval(id);
  }, [fn, ms]);
}
