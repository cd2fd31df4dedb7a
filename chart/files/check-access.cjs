// `helm test` for kube-image-cleanup: asks the API server, as the controller's service account, for
// every permission a run needs (SelfSubjectAccessReview), and fails naming each one that is missing.
// Runs with plain Node.js in the project image, which has no kubectl; mounted from a ConfigMap.
"use strict";
const https = require("node:https");
const fs = require("node:fs");

const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
const host = process.env.KUBERNETES_SERVICE_HOST;
const port = process.env.KUBERNETES_SERVICE_PORT || "443";
const checks = JSON.parse(process.env.ACCESS_CHECKS || "{}");

function review(attrs) {
  const body = JSON.stringify({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: { resourceAttributes: attrs },
  });
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: host.includes(":") ? `[${host}]` : host,
        port,
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        ca: fs.readFileSync(`${sa}/ca.crt`),
        headers: {
          authorization: `Bearer ${fs.readFileSync(`${sa}/token`, "utf8").trim()}`,
          "content-type": "application/json",
        },
        timeout: 15000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          if (res.statusCode !== 201 && res.statusCode !== 200) {
            reject(new Error(`SelfSubjectAccessReview answered HTTP ${res.statusCode}: ${text}`));
            return;
          }
          resolve(JSON.parse(text).status);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from https://${host}:${port} within 15s`)));
    req.on("error", reject);
    req.end(body);
  });
}

function describe(c) {
  const what = `${c.subresource ? `${c.resource}/${c.subresource}` : c.resource}${c.name ? ` ${c.name}` : ""}`;
  return `${c.verb} ${what} ${c.namespace ? `in namespace ${c.namespace}` : "cluster-wide"}`;
}

async function main() {
  if (!host) throw new Error("KUBERNETES_SERVICE_HOST is not set: is this running in a pod?");
  let missing = 0;
  for (const c of checks.allowed || []) {
    const status = await review(c);
    if (status.allowed) {
      console.log(`ok       ${describe(c)}`);
    } else {
      missing++;
      console.log(`MISSING  ${describe(c)}${status.reason ? ` (${status.reason})` : ""}`);
    }
  }
  // More than needed is reported, not failed: a service account brought along with
  // serviceAccount.create=false may carry other bindings on purpose.
  for (const c of checks.denied || []) {
    const status = await review(c);
    console.log(`${status.allowed ? "WARNING  not needed but allowed:" : "ok       denied:"} ${describe(c)}`);
  }
  if (missing > 0) {
    console.log(
      `${missing} permission(s) missing for the controller's service account; ` +
        "with rbac.create=false, grant them as chart/README.md lists",
    );
    process.exitCode = 1;
  } else {
    console.log("the service account has every permission a run needs");
  }
}

main().catch((err) => {
  console.error(`error: ${err.message}`);
  process.exitCode = 1;
});
