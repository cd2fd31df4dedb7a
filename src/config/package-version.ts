// The project's version, read from package.json at run time (the image ships it next to dist/), for
// the default helper image tag. Two levels up from both src/config and dist/config.
import { readFileSync } from "node:fs";

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "latest";
  } catch {
    // A bundled or relocated build without package.json: `latest` is the honest fallback, and the
    // chart always passes --helper-image explicitly.
    return "latest";
  }
}
