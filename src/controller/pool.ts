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
