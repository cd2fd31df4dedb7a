// A few short client calls side by side: enough to hide their latency, few enough not to load the
// runtime.

/** Runs `work` on every item, four at a time (each is one short client call). */
export async function inParallel<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
