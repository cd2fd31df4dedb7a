// yargs renders a command's whole help text right after starting its handler, to cache it for a
// later showHelp(), which this CLI never calls (--help is answered before any handler runs, and a
// failure prints one line, never the help). In the agent that render (~60-80 ms of CPU on the
// shared test machine: every option's description wrapped and measured) blocks the event loop
// while its first client calls are under way, on every node's critical path. Help is rendered when
// asked for instead.

/**
 * Turns off the help cache of a yargs 17 instance. It reaches into yargs' internals (the usage
 * instance, kept across yargs' resets); without them (another yargs) yargs caches as before, and
 * test/unit/cli/help-cache.test.ts fails, so the cut is not lost unnoticed.
 */
export function skipHelpCache(parser: object): boolean {
  const internal = (parser as { getInternalMethods?: () => unknown }).getInternalMethods?.() as
    { getUsageInstance?: () => { cacheHelpMessage?: () => void } } | undefined;
  const usage = internal?.getUsageInstance?.();
  if (usage === undefined || typeof usage.cacheHelpMessage !== "function") return false;
  usage.cacheHelpMessage = () => undefined;
  return true;
}
