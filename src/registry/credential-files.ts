// Reads the pull Secrets the helper pod has mounted (each Secret's `.dockerconfigjson` key as a
// file) into one credential store. A file that cannot be used stops the agent before it asks any
// registry or pulls anything: with a wrong secret, every answer would be "refused".
import { basename, dirname } from "node:path";
import { ConfigError } from "../errors.js";
import { readFlagFile } from "../config/flag-file.js";
import {
  credentialStore,
  parseDockerConfig,
  type CredentialStore,
  type RegistryCredential,
} from "./credentials.js";

/**
 * The Secret's name for messages: the directory it is mounted in (the controller mounts each at
 * `<dir>/<secret name>/.dockerconfigjson`), else the file name.
 */
function sourceOf(path: string): string {
  return basename(path) === ".dockerconfigjson" ? `pull Secret ${basename(dirname(path))}` : path;
}

export async function readCredentialFiles(paths: readonly string[]): Promise<CredentialStore> {
  const entries: [string, RegistryCredential][] = [];
  for (const path of paths) {
    const text = await readFlagFile(
      "--pull-secret-file",
      path,
      (err) => `give a readable .dockerconfigjson file (${err.code ?? "unreadable"})`,
    );
    const parsed = parseDockerConfig(text, sourceOf(path));
    if ("problem" in parsed)
      throw new ConfigError(
        "--pull-secret-file",
        path,
        `${parsed.problem}; give a Secret of type kubernetes.io/dockerconfigjson`,
      );
    entries.push(...parsed.entries);
  }
  return credentialStore(entries);
}
