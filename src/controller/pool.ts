// Bounded concurrency without a dependency: at most `limit` items in flight, started in order, and
// none started once `signal` aborts.

/** Runs `work` over `items`, at most `limit` at a time; returns the items never started. */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<T[]> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () =>
    worker(),
  );
  await Promise.all(workers);
  return items.slice(next);
}

/** At most `limit` calls of `run` in flight; the others wait their turn, first come first served. */
export interface Limiter {
  run<R>(fn: () => Promise<R>): Promise<R>;
}

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async run<R>(fn: () => Promise<R>): Promise<R> {
      if (active >= Math.max(1, limit)) await new Promise<void>((r) => waiting.push(r));
      else active++;
      try {
        return await fn();
      } finally {
        // The slot passes straight to the next waiter, so `active` counts it still.
        const next = waiting.shift();
        if (next === undefined) active--;
        else next();
      }
    },
  };
}
