/** Data fetching for views: one request per change of its key, with loading, error and refresh. */
import { useEffect, useRef, useState } from 'react';

export interface Loadable<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  /** When the data shown was fetched. */
  fetchedAtMs: number | null;
  reload(): void;
}

/**
 * Runs `load` whenever `key` changes (and every `refreshMs` if given), aborting the
 * previous request; keeps the last data while a refresh is in flight so charts do not blink.
 */
export function useApi<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>, refreshMs?: number): Loadable<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean; fetchedAtMs: number | null; key: string | null }>({
    data: null,
    error: null,
    loading: true,
    fetchedAtMs: null,
    key,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    if (key === null) return;
    const ctrl = new AbortController();
    setState((s) => (s.key === key ? { ...s, loading: true } : { data: null, error: null, loading: true, fetchedAtMs: null, key }));
    loadRef.current(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: null, loading: false, fetchedAtMs: Date.now(), key });
      },
      (error: Error) => {
        if (!ctrl.signal.aborted && error.name !== 'AbortError') setState((s) => ({ ...s, error, loading: false, key }));
      },
    );
    return () => ctrl.abort();
  }, [key, tick]);

  useEffect(() => {
    if (!refreshMs || key === null) return;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, refreshMs);
    return () => clearInterval(id);
  }, [refreshMs, key]);

  const sameKey = state.key === key;
  return {
    data: sameKey ? state.data : null,
    error: sameKey ? state.error : null,
    loading: key !== null && (!sameKey || state.loading),
    fetchedAtMs: sameKey ? state.fetchedAtMs : null,
    reload: () => setTick((t) => t + 1),
  };
}
