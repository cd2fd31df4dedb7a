// Reading what a removal call said about each reference, by exact reference: `docker.io/a/b:1` is a
// substring of `docker.io/a/b:10`'s error line, and must not take its error (or its success).

/** Whether `line` names `ref` as a whole: not as part of a longer reference. */
export function mentionsRef(line: string, ref: string): boolean {
  if (ref === "") return false;
  for (let at = line.indexOf(ref); at >= 0; at = line.indexOf(ref, at + 1)) {
    const before = at === 0 ? "" : line.charAt(at - 1);
    const after = line.slice(at + ref.length, at + ref.length + 2);
    // Before: start, space, a quote or `=`; after: end, space, a quote (logrus escapes it: `\"`),
    // or `: ` (ctr's `msg="REF: image not found"`). Anything else continues a longer name
    // (`:10`, `/x`, `-x`).
    const startsHere = before === "" || /[\s"'=]/.test(before);
    const endsHere = after === "" || /^[\s"'\\]/.test(after) || /^:(\s|$)/.test(after);
    if (startsHere && endsHere) return true;
  }
  return false;
}

/**
 * Error lines of a removal call, by the reference they name. Lines that say a reference was not
 * found are not errors (it is gone either way; the listing afterwards decides). A line naming no
 * reference of the batch is left out: the caller attributes a failed call to a lone reference.
 */
export function errorsByRef(
  stderr: string,
  refs: readonly string[],
  notFound: RegExp,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of stderr.split("\n")) {
    const line = raw.trim();
    if (line === "" || notFound.test(line)) continue;
    for (const ref of refs) if (mentionsRef(line, ref) && !out.has(ref)) out.set(ref, line);
  }
  return out;
}

/** The references a removal call said it did not find (someone else had removed them). */
export function notFoundRefs(
  stderr: string,
  refs: readonly string[],
  notFound: RegExp,
): Set<string> {
  const out = new Set<string>();
  for (const raw of stderr.split("\n")) {
    const line = raw.trim();
    if (line === "" || !notFound.test(line)) continue;
    for (const ref of refs) if (mentionsRef(line, ref)) out.add(ref);
  }
  return out;
}
