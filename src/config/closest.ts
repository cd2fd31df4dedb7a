// "Did you mean ...?" for a mistyped flag or command: the candidate with the fewest single-character
// edits, if it is close enough to be what was meant.

/** Levenshtein distance between two words. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The one candidate `word` abbreviates (`--dry` for `--dry-run`), else the candidate nearest to it
 * when at most a third of it (at least 1, at most 3 edits) differs; else undefined. Ties go to the
 * first candidate.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const extending = candidates.filter((c) => word.length >= 3 && c.startsWith(word));
  if (extending.length === 1) return extending[0];
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
