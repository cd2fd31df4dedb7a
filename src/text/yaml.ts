// YAML for `-o yaml`: the same document `-o json` prints, as kubectl prints its objects.
import { dump } from "js-yaml";

/** `value` (plain JSON data) as a YAML document; long strings stay on one line. */
export function toYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1, sortKeys: false });
}
