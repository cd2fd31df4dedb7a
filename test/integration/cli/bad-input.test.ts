// Every bad input of every command, answered the same way by the real CLI as a process (`node
// dist/cli.js`, built from src/ for this file): exit code 2, one line naming the flag, KIC_ variable
// or file with what was given and what is accepted, one hint line, no stack trace, no help text; with
// --log-format json exactly one JSON record. And nothing started: no runtime client ran (crictl, ctr
// and nsenter on PATH are wrappers that record being called) and no connection reached the API
// server the kubeconfig names (a loopback listener counts them).
//
// Integration, not unit: ~75 node processes take a minute or two on a busy machine. No cluster is
// needed, so it takes no lock.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtCli } from "../../support/agent-cli.js";
import { tempDir } from "../../support/temp-dir.js";

interface Row {
  name: string;
  args: string[];
  /** Added to (a string) or removed from (undefined) the base environment. */
  env?: Record<string, string | undefined>;
  /** What the message must name: a flag, a KIC_ variable, KUBECONFIG, `command`. */
  key: string;
  /** More the message must say (what was given, what is accepted). */
  says?: RegExp;
  /** 1 when the error is not a ConfigError (no hint line). */
  lines?: 1 | 2;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

const tmp = tempDir("kic-bad-input-");
const file = (name: string) => join(tmp, name);
const home = file("home");
const wrappers = file("bin");
const calls = file("runtime-client-calls");
const liveSocket = file("runtime.sock");
/** A kubeconfig whose server is a loopback listener that counts connections. */
const watched = file("watched.kubeconfig");

function kubeconfig(server: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    "users: [{name: u, user: {token: t}}]",
    "contexts: [{name: c, context: {cluster: c, user: u}}]",
    "current-context: c",
    "",
  ].join("\n");
}

/** Agent rows end with a socket that exists, so only validation stands between them and crictl. */
const agent = (...args: string[]) => ["agent", ...args, "--socket", liveSocket];
const cron = ["schedule", "--cron", "0 3 * * *"];

// One row per line: a table reads better than prettier's one field per line.
// prettier-ignore
const rows: Row[] = [
  // run: flags
  { name: "run: unknown flag", args: ["run", "--include", "x/*", "--bogus"], key: "--bogus", says: /not an option of run/ },
  // Before, yargs' complaint was printed and the run went on: a mistyped --dry-run deleted for real.
  { name: "run: mistyped --dry-run", args: ["run", "--include", "x/*", "--dryrun"], key: "--dryrun", says: /did you mean --dry-run\?/ },
  // yargs reads any boolean value but "true" as false: --dry-run=yes would delete for real.
  { name: "run: boolean flag with a value that is not true/false", args: ["run", "--include", "x/*", "--dry-run=yes"], key: "--dry-run", says: /given "yes"; give --dry-run alone/ },
  { name: "run: mistyped flag", args: ["run", "--inclde", "x/*"], key: "--inclde", says: /did you mean --include\?/ },
  { name: "run: value outside choices", args: ["run", "--include", "x/*", "--client", "podman"], key: "--client", says: /given "podman"; use one of auto, crictl, ctr, docker/ },
  { name: "run: --output outside choices", args: ["run", "--include", "x/*", "--output", "yaml"], key: "--output", says: /use one of table, json/ },
  { name: "run: flag without its value", args: ["run", "--include"], key: "--include", says: /give a value/ },
  { name: "run: no --include", args: ["run", "--dry-run"], key: "--include", says: /at least one glob/ },
  { name: "run: empty pattern", args: ["run", "--include", ""], key: "--include", says: /non-empty glob/ },
  { name: "run: blank exclude pattern", args: ["run", "--include", "x/*", "--exclude", " "], key: "--exclude", says: /non-empty glob/ },
  { name: "run: exclude that can never match", args: ["run", "--include", "x/*", "--exclude", "*"], key: "--exclude", says: /given "\*"; it can never match an image/ },
  { name: "run: exclude id too short to mean one image", args: ["run", "--include", "**", "--exclude", "sha256:9705"], key: "--exclude", says: /at least 12/ },
  { name: "run: include with capitals in the repository", args: ["run", "--include", "Acme/App:*"], key: "--include", says: /repository names are lowercase/ },
  { name: "run: duration without unit", args: ["run", "--include", "x/*", "--min-age", "30"], key: "--min-age", says: /given "30"; use a duration like/ },
  { name: "run: duration with a bad unit", args: ["run", "--include", "x/*", "--node-timeout", "5y"], key: "--node-timeout", says: /given "5y"/ },
  { name: "run: duration too short", args: ["run", "--include", "x/*", "--node-timeout", "5s"], key: "--node-timeout", says: /at least 10s/ },
  { name: "run: number below range", args: ["run", "--include", "x/*", "--concurrency", "0"], key: "--concurrency", says: /given "0"; give a whole number from 1 to 500/ },
  { name: "run: number above range", args: ["run", "--include", "x/*", "--concurrency", "501"], key: "--concurrency", says: /from 1 to 500/ },
  { name: "run: number that is text", args: ["run", "--include", "x/*", "--concurrency", "many"], key: "--concurrency", says: /given "many"/ },
  { name: "run: label selector", args: ["run", "--include", "x/*", "--node-selector", "a=b,,c"], key: "--node-selector", says: /kubectl's syntax/ },
  { name: "run: node name", args: ["run", "--include", "x/*", "--nodes", "Node_A"], key: "--nodes", says: /given "Node_A"/ },
  { name: "run: resource quantity", args: ["run", "--include", "x/*", "--helper-memory-limit", "lots"], key: "--helper-memory-limit", says: /quantity/ },
  { name: "run: tolerations not JSON", args: ["run", "--include", "x/*", "--helper-tolerations", "{"], key: "--helper-tolerations", says: /JSON list of tolerations/ },
  { name: "run: relative socket", args: ["run", "--include", "x/*", "--socket", "run/containerd.sock"], key: "--socket", says: /absolute path/ },
  { name: "run: helper mode outside choices", args: ["run", "--include", "x/*", "--helper-mode", "rootless"], key: "--helper-mode", says: /given "rootless"; use one of privileged, socket/ },
  { name: "run: socket group id that is text", args: ["run", "--include", "x/*", "--helper-mode", "socket", "--helper-socket-gid", "docker"], key: "--helper-socket-gid", says: /given "docker"; give a numeric id from 0 to 2147483647/ },
  { name: "run: negative socket user id", args: ["run", "--include", "x/*", "--helper-socket-uid", "-1"], key: "--helper-socket-uid", says: /numeric id/ },
  { name: "run: positional word", args: ["run", "extra", "--include", "x/*"], key: "arguments", says: /given "extra"; run takes no positional arguments/ },
  { name: "run: invalid /re/ include", args: ["run", "--include", "/(a/"], key: "--include", says: /given "\/\(a\/"; it is not a regular expression RE2 accepts \(error parsing regexp: missing closing \)/ },
  { name: "run: /re/ with another flag", args: ["run", "--include", "x/*", "--exclude", "/x/g"], key: "--exclude", says: /written \/re\/ or \/re\/i/ },
  { name: "run: keep-newest 0", args: ["run", "--include", "x/*", "--keep-newest", "0"], key: "--keep-newest", says: /given "0"; give a whole number of at least 1/ },
  { name: "run: max bytes with a unit of its own", args: ["run", "--include", "x/*", "--max-bytes-per-node", "10GB"], key: "--max-bytes-per-node", says: /given "10GB"; give a size such as 10Gi/ },
  // run: KIC_ variables
  { name: "run: KIC_INCLUDE invalid /re/", args: ["run"], env: { KIC_INCLUDE: "/(?=a)b/" }, key: "KIC_INCLUDE", says: /invalid or unsupported Perl syntax/ },
  { name: "run: KIC_MAX_IMAGES_PER_NODE not a number", args: ["run", "--include", "x/*"], env: { KIC_MAX_IMAGES_PER_NODE: "many" }, key: "KIC_MAX_IMAGES_PER_NODE", says: /given "many"/ },
  { name: "run: KIC_ value outside choices", args: ["run", "--include", "x/*"], env: { KIC_CLIENT: "podman" }, key: "KIC_CLIENT", says: /given "podman"/ },
  { name: "run: KIC_ number out of range", args: ["run", "--include", "x/*"], env: { KIC_CONCURRENCY: "0" }, key: "KIC_CONCURRENCY", says: /whole number/ },
  { name: "run: KIC_HELPER_MODE outside choices", args: ["run", "--include", "x/*"], env: { KIC_HELPER_MODE: "hostpath" }, key: "KIC_HELPER_MODE", says: /given "hostpath"; use one of privileged, socket/ },
  { name: "run: KIC_ duration", args: ["run"], env: { KIC_INCLUDE: "x/*", KIC_MIN_AGE: "soon" }, key: "KIC_MIN_AGE", says: /given "soon"/ },
  { name: "run: mistyped KIC_ variable", args: ["run", "--include", "x/*"], env: { KIC_DRYRUN: "true" }, key: "KIC_DRYRUN", says: /did you mean KIC_DRY_RUN\?/ },
  { name: "run: empty KIC_INCLUDE", args: ["run"], env: { KIC_INCLUDE: "" }, key: "KIC_INCLUDE", says: /non-empty glob/ },
  // run: kubeconfig files
  { name: "run: --kubeconfig missing", args: ["run", "--include", "x/*", "--kubeconfig", file("nope.kubeconfig")], key: "--kubeconfig", says: /nope\.kubeconfig"; the file does not exist/ },
  { name: "run: --kubeconfig empty", args: ["run", "--include", "x/*", "--kubeconfig", file("empty.kubeconfig")], key: "--kubeconfig", says: /the file is empty/ },
  { name: "run: --kubeconfig not YAML", args: ["run", "--include", "x/*", "--kubeconfig", file("broken.kubeconfig")], key: "--kubeconfig", says: /broken\.kubeconfig"; not a valid kubeconfig: / },
  { name: "run: --kubeconfig YAML of another kind", args: ["run", "--include", "x/*", "--kubeconfig", file("list.kubeconfig")], key: "--kubeconfig", says: /holds no contexts/ },
  { name: "run: --kubeconfig server not a URL", args: ["run", "--include", "x/*", "--kubeconfig", file("no-url.kubeconfig")], key: "--kubeconfig", says: /has server "not a url"/ },
  { name: "run: --kubeconfig is a directory", args: ["run", "--include", "x/*", "--kubeconfig", tmp], key: "--kubeconfig", says: /is a directory/ },
  { name: "run: $KUBECONFIG missing", args: ["run", "--include", "x/*"], env: { KUBECONFIG: file("nope.kubeconfig") }, key: "KUBECONFIG", says: /the file does not exist/ },
  { name: "run: $KUBECONFIG not YAML", args: ["run", "--include", "x/*"], env: { KUBECONFIG: file("broken.kubeconfig") }, key: "KUBECONFIG", says: /not a valid kubeconfig/ },
  { name: "run: $KUBECONFIG list with a missing file", args: ["run", "--include", "x/*"], env: { KUBECONFIG: `${watched}:${file("nope.kubeconfig")}` }, key: "KUBECONFIG", says: /nope\.kubeconfig"; the file does not exist \(one of KUBECONFIG=/ },
  { name: "run: ~/.kube/config not YAML", args: ["run", "--include", "x/*"], env: { KUBECONFIG: undefined, HOME: file("home-broken") }, key: "~/.kube/config", says: /not a valid kubeconfig/ },
  { name: "run: no credentials anywhere", args: ["run", "--include", "x/*"], env: { KUBECONFIG: undefined }, key: "--kubeconfig", says: /no credentials found/ },
  { name: "run: unknown --context", args: ["run", "--include", "x/*", "--context", "prod"], key: "--context", says: /given "prod"; use one of the contexts/ },
  { name: "run: API server unreachable", args: ["run", "--include", "x/*", "--kubeconfig", file("down.kubeconfig")], key: "down.kubeconfig", says: /^error: cannot reach the API server to list [a-z]+ in all namespaces: https:\/\/127\.0\.0\.1:1 \(kubeconfig .*down\.kubeconfig \(--kubeconfig\)\): connect ECONNREFUSED/, lines: 1 },
  { name: "run: API server of $KUBECONFIG unreachable", args: ["run", "--include", "x/*"], env: { KUBECONFIG: file("down.kubeconfig") }, key: "down.kubeconfig ($KUBECONFIG)", says: /https:\/\/127\.0\.0\.1:1/, lines: 1 },
  // run: audit sinks
  { name: "run: --pushgateway-url without scheme", args: ["run", "--include", "x/*", "--pushgateway-url", "pushgateway:9091"], key: "--pushgateway-url", says: /given "pushgateway:9091"; give the Pushgateway's base URL/ },
  { name: "run: -o yaml (a run's output is a log stream)", args: ["run", "--include", "x/*", "-o", "yaml"], key: "--output", says: /given "yaml"; use one of table, json/ },
  { name: "run: KIC_OUTPUT outside choices", args: ["run", "--include", "x/*"], env: { KIC_OUTPUT: "wide" }, key: "KIC_OUTPUT", says: /given "wide"/ },
  { name: "run: --request-timeout without a unit", args: ["run", "--include", "x/*", "--request-timeout", "30"], key: "--request-timeout", says: /given "30"; use a duration/ },
  { name: "run: --report-runs out of range", args: ["run", "--include", "x/*", "--report-runs", "51"], key: "--report-runs", says: /whole number from 1 to 50/ },
  { name: "run: KIC_EVENTS not true/false", args: ["run", "--include", "x/*"], env: { KIC_EVENTS: "yes" }, key: "KIC_EVENTS", says: /given "yes"; use true or false/ },
  // report
  { name: "report: --output outside choices", args: ["report", "--output", "xml"], key: "--output", says: /given "xml"; use one of table, json, yaml/ },
  { name: "report: -o outside choices", args: ["report", "-o", "wide"], key: "--output", says: /given "wide"; use one of table, json, yaml/ },
  { name: "report: --request-timeout not a duration", args: ["report", "-n", "kic", "--request-timeout", "soon"], key: "--request-timeout", says: /given "soon"; use a duration/ },
  { name: "report: --release not a release name", args: ["report", "--release", "Night Run"], key: "--release", says: /Helm release name/ },
  { name: "report: --report-configmap not a name", args: ["report", "--report-configmap", "Run_Report"], key: "--report-configmap", says: /given "Run_Report"; give a ConfigMap name/ },
  { name: "report: API server unreachable", args: ["report", "--kubeconfig", file("down.kubeconfig")], key: "down.kubeconfig", says: /^error: cannot reach the API server to list configmaps in namespace default: https:\/\/127\.0\.0\.1:1 .*ECONNREFUSED/, lines: 1 },
  // list
  // Without --include, list takes it from the release in the namespace; --release '' says there is none.
  { name: "list: no --include and no release", args: ["list", "--release", ""], key: "--include", says: /at least one glob/ },
  { name: "list: --output outside choices", args: ["list", "--include", "x/*", "--output", "wide"], key: "--output", says: /given "wide"; use one of table, json, yaml, csv/ },
  { name: "list: -o outside choices, settings from the release", args: ["list", "-n", "kic", "-o", "xml"], key: "--output", says: /given "xml"/ },
  { name: "list: --release not a release name", args: ["list", "-n", "kic", "--release", "kic/prod"], key: "--release", says: /given "kic\/prod"; give a Helm release name/ },
  { name: "list: --release without its value", args: ["list", "-n", "kic", "--release"], key: "--release", says: /give a value after --release/ },
  { name: "list: --request-timeout 0", args: ["list", "-n", "kic", "--request-timeout", "0"], key: "--request-timeout", says: /given "0"; give at least 1s/ },
  { name: "list: -l not a selector", args: ["list", "-n", "kic", "-l", "a=b=c"], key: "--node-selector", says: /not a label requirement/ },
  // Checked before the release is looked up: a typed flag is bad whatever the release says.
  { name: "list: bad typed flag with the rest from the release", args: ["list", "-n", "kic", "--concurrency", "0"], key: "--concurrency", says: /whole number/ },
  { name: "list: a run-only flag", args: ["list", "--include", "x/*", "--dry-run"], key: "--dry-run", says: /not an option of list/ },
  // agent
  { name: "agent: no --include", args: agent("--dry-run"), key: "--include", says: /at least one glob/ },
  { name: "agent: value outside choices", args: agent("--include", "x/*", "--host-exec", "chroot"), key: "--host-exec", says: /given "chroot"; use one of nsenter, direct, socket/ },
  { name: "agent: --host-exec socket without --socket", args: ["agent", "--include", "x/*", "--host-exec", "socket"], key: "--socket", says: /--host-exec socket needs --socket: the path where the node's runtime socket is mounted/ },
  { name: "agent: id pattern that is not hex", args: agent("--include", "sha256:XYZ"), key: "--include", says: /sha256: followed by lowercase hex/ },
  { name: "agent: mistyped flag", args: agent("--include", "x/*", "--dry"), key: "--dry", says: /did you mean --dry-run\?/ },
  { name: "agent: --protect-file missing", args: agent("--include", "x/*", "--protect-file", file("nope.json")), key: "--protect-file", says: /nope\.json"; give a readable file/ },
  { name: "agent: --protect-file not JSON", args: agent("--include", "x/*", "--protect-file", file("broken.json")), key: "--protect-file", says: /JSON list of image references/ },
  { name: "agent: --protect-file JSON of another shape", args: agent("--include", "x/*", "--protect-file", file("object.json")), key: "--protect-file", says: /JSON list of image references/ },
  { name: "agent: nsenter target", args: agent("--include", "x/*", "--nsenter-target", "a b"), key: "--nsenter-target", says: /process id/ },
  { name: "agent: duration", args: agent("--include", "x/*", "--min-age", "1 day"), key: "--min-age", says: /given "1 day"/ },
  { name: "agent: invalid /re/ exclude", args: agent("--include", "x/*", "--exclude", "/[a/"), key: "--exclude", says: /missing closing \]/ },
  { name: "agent: exclude id too short to mean one image", args: agent("--include", "**", "--exclude", "sha256:9705fd1c"), key: "--exclude", says: /given "sha256:9705fd1c".*at least 12/ },
  { name: "agent: exclude with a cut digest", args: agent("--include", "**", "--exclude", "nginx@sha256:b2c15bf14db1"), key: "--exclude", says: /has 12 hex digits, a digest has 64/ },
  { name: "agent: include id that is only a prefix", args: agent("--include", "sha256:9705fd1c48a5"), key: "--include", says: /an --include id is matched whole/ },
  { name: "agent: keep-newest not a number", args: agent("--include", "x/*", "--keep-newest", "two"), key: "--keep-newest", says: /given "two"/ },
  { name: "agent: KIC_ boolean that is not true/false", args: agent("--include", "x/*"), env: { KIC_DRY_RUN: "1" }, key: "KIC_DRY_RUN", says: /given "1"; use true or false/ },
  { name: "agent: KIC_ value outside choices", args: agent("--include", "x/*"), env: { KIC_CLIENT: "podman" }, key: "KIC_CLIENT", says: /given "podman"/ },
  // schedule
  { name: "schedule: no --cron", args: ["schedule", "--", "run", "--include", "x/*"], key: "--cron", says: /--cron is required/ },
  { name: "schedule: cron words", args: ["schedule", "--cron", "every night", "--", "run", "--include", "x/*"], key: "--cron", says: /given "every night"/ },
  { name: "schedule: cron field out of range", args: ["schedule", "--cron", "61 * * * *", "--", "run", "--include", "x/*"], key: "--cron", says: /given "61 \* \* \* \*"/ },
  { name: "schedule: time zone", args: [...cron, "--timezone", "Mars/Olympus", "--", "run", "--include", "x/*"], key: "--timezone", says: /IANA time zone/ },
  { name: "schedule: no run command", args: cron, key: "schedule arguments", says: /give the command to repeat after --: run .*or agent/ },
  { name: "schedule: agent option before --", args: [...cron, "--ctr-namespace", "x", "--", "agent", "--include", "x/*"], key: "--ctr-namespace", says: /an option of agent: put it after --/ },
  { name: "schedule: bad agent option after --", args: [...cron, "--", "agent", "--include", "x/*", "--client", "podman"], key: "--client", says: /given "podman"; use one of auto, crictl, ctr, docker/ },
  { name: "schedule: run option before --", args: [...cron, "--dry-run", "--", "run", "--include", "x/*"], key: "--dry-run", says: /put it after --/ },
  { name: "schedule: bad run option after --", args: [...cron, "--", "run", "--include", "x/*", "--concurrency", "0"], key: "--concurrency", says: /whole number/ },
  { name: "schedule: run boolean after -- with a value", args: [...cron, "--", "run", "--include", "x/*", "--dry-run=TRUE"], key: "--dry-run", says: /given "TRUE"/ },
  { name: "schedule: unknown run flag after --", args: [...cron, "--", "run", "--include", "x/*", "--bogus"], key: "--bogus", says: /not an option of run/ },
  // KIC_ variables are the run's: schedule's own strict parse must let them through to it.
  { name: "schedule: bad KIC_ variable for the run", args: [...cron, "--", "run"], env: { KIC_INCLUDE: "x/*", KIC_CONCURRENCY: "0" }, key: "KIC_CONCURRENCY", says: /given "0"; give a whole number/ },
  { name: "schedule: bad kubeconfig", args: [...cron, "--", "run", "--include", "x/*", "--kubeconfig", file("broken.kubeconfig")], key: "--kubeconfig", says: /not a valid kubeconfig/ },
  // commands
  { name: "unknown command", args: ["frobnicate"], key: "command", says: /given "frobnicate"; use one of agent, run, schedule, report, list/ },
  { name: "mistyped command", args: ["rn", "--include", "x/*"], key: "command", says: /did you mean run\?/ },
  { name: "no command", args: [], key: "command", says: /choose one of agent, run, schedule, report, list/ },
  { name: "run: unknown flag under a German locale", args: ["run", "--bogus"], env: { LANG: "de_DE.UTF-8", LC_ALL: "de_DE.UTF-8" }, key: "--bogus", says: /not an option of run/ },
];

/** Rows run again with --log-format json (or KIC_LOG_FORMAT=json): one JSON record each. */
// prettier-ignore
const jsonRows: Row[] = [
  { name: "run: value outside choices", args: ["run", "--log-format", "json", "--include", "x/*", "--client", "podman"], key: "--client" },
  { name: "run: unknown flag (KIC_LOG_FORMAT)", args: ["run", "--bogus"], env: { KIC_LOG_FORMAT: "json" }, key: "--bogus" },
  { name: "run: --kubeconfig not YAML", args: ["run", "--log-format", "json", "--include", "x/*", "--kubeconfig", file("broken.kubeconfig")], key: "--kubeconfig" },
  { name: "agent: --protect-file missing", args: agent("--log-format", "json", "--include", "x/*", "--protect-file", file("nope.json")), key: "--protect-file" },
  { name: "agent: flag without its value", args: ["agent", "--log-format", "json", "--include"], key: "--include" },
  { name: "schedule: bad run option after --", args: [...cron, "--", "run", "--log-format", "json", "--include", "x/*", "--min-age", "30"], key: "--min-age" },
  { name: "list: -o outside choices", args: ["list", "--log-format", "json", "-n", "kic", "-o", "wide"], key: "--output" },
  { name: "run: API server unreachable", args: ["run", "--log-format", "json", "--include", "x/*", "--kubeconfig", file("down.kubeconfig")], key: "down.kubeconfig", lines: 1 },
];

const cli = builtCli();
let server: Server | undefined;
let runtime: Server | undefined;
let connections = 0;
const outcomes = new Map<Row, Outcome>();
/** Connections to the watched API server and runtime client calls while the rows ran. */
let during = { connections: -1, clientCalls: "" };

function baseEnv(): NodeJS.ProcessEnv {
  // Nothing from the test's own environment but PATH: a KIC_ variable of the test tooling
  // (KIC_CACHE, KIC_NODE_NAME) would be an unknown option to the strict parse.
  return {
    PATH: `${wrappers}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    KUBECONFIG: watched,
  };
}

function runCli(args: string[], env: Row["env"] = {}): Promise<Outcome> {
  const full = baseEnv();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) Reflect.deleteProperty(full, k);
    else full[k] = v;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli(), ...args],
      { env: full, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

beforeAll(async () => {
  mkdirSync(home);
  mkdirSync(join(file("home-broken"), ".kube"), { recursive: true });
  writeFileSync(join(file("home-broken"), ".kube", "config"), "clusters: [\n");
  writeFileSync(file("empty.kubeconfig"), "");
  writeFileSync(file("broken.kubeconfig"), "clusters: [\n  - name: c\n    cluster: {server: \n");
  writeFileSync(file("list.kubeconfig"), "- a\n- b\n");
  writeFileSync(file("no-url.kubeconfig"), kubeconfig("not a url"));
  writeFileSync(file("down.kubeconfig"), kubeconfig("https://127.0.0.1:1"));
  writeFileSync(file("broken.json"), '["nginx:1.25",');
  writeFileSync(file("object.json"), '{"images": ["nginx:1.25"]}');
  // Runtime clients that record being run: the agent must not reach them on bad input.
  mkdirSync(wrappers);
  for (const client of ["crictl", "ctr", "nsenter"]) {
    writeFileSync(join(wrappers, client), `#!/bin/sh\necho "${client} $*" >> '${calls}'\nexit 1\n`);
    chmodSync(join(wrappers, client), 0o755);
  }
  // A runtime socket that exists (nothing answers on it but the wrappers would be run against it).
  runtime = createServer();
  await new Promise<void>((resolve) => runtime?.listen(liveSocket, resolve));
  // The API server: a loopback listener that counts connections and hangs up.
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no listener address");
  writeFileSync(watched, kubeconfig(`https://127.0.0.1:${address.port}`));

  await pool([...rows, ...jsonRows], 4, async (row) => {
    outcomes.set(row, await runCli(row.args, row.env));
  });
  during = {
    connections,
    clientCalls: existsSync(calls) ? readFileSync(calls, "utf8") : "",
  };
}, 300_000);

afterAll(() => {
  server?.close();
  runtime?.close();
});

function outcome(row: Row): Outcome {
  const o = outcomes.get(row);
  if (o === undefined) throw new Error(`row "${row.name}" did not run`);
  return o;
}

/**
 * The row's outcome, checked to be exit 2 with nothing on `quiet`; `context` (both streams) goes
 * with every further assertion.
 */
function refused(row: Row, quiet: "stdout" | "stderr") {
  const o = outcome(row);
  const context = `stdout:\n${o.stdout}\nstderr:\n${o.stderr}`;
  expect(o.code, context).toBe(2);
  expect(o[quiet], context).toBe("");
  return { ...o, context };
}

describe("bad input: exit 2, one line naming the key, a hint, no stack", () => {
  it("has at least 30 rows across run, agent, schedule and the command itself", () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    for (const command of ["run", "agent", "schedule"]) {
      expect(rows.some((r) => r.args[0] === command)).toBe(true);
    }
  });

  for (const row of rows) {
    it(row.name, () => {
      const { stderr, context } = refused(row, "stdout");
      expect(stderr, context).not.toMatch(/^ {4}at /m);
      const [first = "", ...rest] = lines(stderr);
      expect(rest.length + 1, context).toBe(row.lines ?? 2);
      expect(first).toMatch(/^error: /);
      expect(first).toContain(row.key);
      if (row.says) expect(first).toMatch(row.says);
      if ((row.lines ?? 2) === 2) {
        expect(rest[0]).toMatch(
          /^see kube-image-cleanup( (run|agent|schedule|report|list))? --help$/,
        );
      }
    });
  }
});

describe("bad input with --log-format json: one JSON record", () => {
  for (const row of jsonRows) {
    it(row.name, () => {
      const { stdout, context } = refused(row, "stderr");
      const records = lines(stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
      const errors = records.filter((r) => typeof r.level === "number" && r.level >= 50);
      expect(errors, context).toHaveLength(1);
      const [error] = errors;
      expect(error?.exitCode).toBe(2);
      expect(String(error?.msg)).toContain(row.key);
      expect(String(error?.msg)).not.toContain("\n");
      if ((row.lines ?? 2) === 2) {
        // A config error is the only record: nothing was logged before it.
        expect(records, context).toHaveLength(1);
        expect(error?.key).toBe(row.key);
        expect(error?.hint).toMatch(/--help$/);
      }
    });
  }
});

describe("nothing started on bad input", () => {
  it("ran no runtime client (crictl, ctr, nsenter) for any bad input", () => {
    expect(during.clientCalls).toBe("");
  });

  it("opened no connection to the API server for any bad input", () => {
    expect(during.connections).toBe(0);
  });

  // The two checks above can fail: with valid input the same setup reaches both.
  it("does run crictl when the agent's input is valid (the wrappers record calls)", async () => {
    const r = await runCli(agent("--include", "x/*", "--client", "crictl"));
    expect(r.code, r.stderr).not.toBe(0);
    expect(readFileSync(calls, "utf8")).toMatch(/^crictl /m);
  });

  it("does connect to the API server when run's input is valid (the listener counts)", async () => {
    const before = connections;
    const r = await runCli(["run", "--include", "x/*"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot reach the API server/);
    expect(connections).toBeGreaterThan(before);
  });

  it("reads only KIC_ variables as options, not others that merely start with KIC", async () => {
    // yargs matches an env prefix as written: with "KIC", KICTEST_LOCK_HELD (the test scripts' own
    // marker) was read as --test-lock-held and refused. The run must get as far as the API server.
    const before = connections;
    const r = await runCli(["run", "--include", "x/*"], {
      KICTEST_LOCK_HELD: "123",
      KICKSTART_MODE: "on",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot reach the API server/);
    expect(connections).toBeGreaterThan(before);
  });
});

describe("help, as kubectl users ask for it", () => {
  for (const command of ["run", "list", "report", "schedule", "agent"]) {
    it(`${command} -h prints its options and examples, exit 0, without a request`, async () => {
      const before = connections;
      const r = await runCli([command, "-h"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^kube-image-cleanup ${command}`));
      expect(r.stdout).toMatch(/^Examples:$/m);
      expect(r.stdout).toMatch(new RegExp(`^ {2}kube-image-cleanup ${command} `, "m"));
      expect(connections).toBe(before);
    });
  }

  it("offers kubectl's short flags where they mean what kubectl means", async () => {
    const list = (await runCli(["list", "-h"])).stdout;
    expect(list).toMatch(/^ {2}-n, --namespace /m);
    expect(list).toMatch(/^ {2}-o, --output .*\n.*\[choices: "table", "json", "yaml", "csv"\]/m);
    expect(list).toMatch(/^ {2}-l, --node-selector, --selector /m);
    expect(list).toMatch(/^ {6}--request-timeout /m);
    const report = (await runCli(["report", "-h"])).stdout;
    expect(report).toMatch(/\[choices: "table", "json", "yaml"\]/);
    const run = (await runCli(["run", "-h"])).stdout;
    expect(run).toMatch(/-o, --output [\s\S]*\[choices: "table", "json"\]/);
  });
});
