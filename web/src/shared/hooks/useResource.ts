import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` and keeps it fresh: every `pollMs` while the page is visible (live views update
 * without a reload), backing off (x2, at most a minute) while loads fail. The last good data
 * stays on screen while a refresh runs or fails.
 */
export function useResource<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const failures = useRef(0);
  const run = useCallback(load, deps);

  useEffect(() => {
    setData(undefined);
    setLoading(true);
    failures.current = 0;
  }, [run]);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      if (!pollMs || cancelled) return;
      const delay = Math.min(pollMs * 2 ** failures.current, 60_000);
      timer = setTimeout(() => {
        if (document.visibilityState === 'hidden') schedule();
        else void once();
      }, delay);
    };
    const once = async () => {
      try {
        const value = await run();
        if (cancelled) return;
        failures.current = 0;
        setData(value);
        setError(undefined);
      } catch (e) {
        if (cancelled) return;
        failures.current += 1;
        setError(e);
      } finally {
        if (!cancelled) {
          setLoading(false);
          schedule();
        }
      }
    };
    void once();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [run, pollMs, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}
