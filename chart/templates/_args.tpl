{{/*
The controller's command line: `kube-image-cleanup run` with one flag per value, each flag and its
value one argv element (`--flag=value`), so a value is never split, never read as another flag and
never reaches a shell. test/unit/chart/args.test.ts parses them with the CLI's own option table
and config loader (src/config/run-options.ts).
*/}}
{{- define "kube-image-cleanup.controllerArgs" -}}
{{- $args := list "run" }}
{{- range $key := list "include" "exclude" }}
{{- range $i, $pattern := index $.Values.images $key }}
{{- include "kube-image-cleanup.checkGrepPattern" (list (printf "images.%s[%d]" $key $i) $pattern) }}
{{- $args = append $args (printf "--%s=%s" $key $pattern) }}
{{- end }}
{{- end }}
{{- with .Values.images.minAge }}
{{- $args = append $args (printf "--min-age=%s" .) }}
{{- end }}
{{- with .Values.images.unusedFor }}
{{- $args = append $args (printf "--unused-for=%s" .) }}
{{- end }}
{{- $args = append $args (printf "--protect-workloads=%t" .Values.protect.workloads) }}
{{- with .Values.images.keepNewest }}
{{- $args = append $args (printf "--keep-newest=%d" (int .)) }}
{{- end }}
{{- if .Values.images.onlyIfPullable }}
{{- $args = append $args "--only-if-pullable=true" }}
{{- $args = append $args (printf "--registry-timeout=%s" .Values.images.registryTimeout) }}
{{- range .Values.registryPullSecrets }}
{{- $args = append $args (printf "--registry-pull-secret=%s" .) }}
{{- end }}
{{- end }}
{{- with .Values.limits.maxImagesPerNode }}
{{- $args = append $args (printf "--max-images-per-node=%d" (int .)) }}
{{- end }}
{{- with .Values.limits.maxBytesPerNode }}
{{- $args = append $args (printf "--max-bytes-per-node=%s" .) }}
{{- end }}
{{- $args = concat $args (include "kube-image-cleanup.sweepArgs" . | fromYamlArray) }}
{{- $args = append $args (printf "--dry-run=%t" .Values.dryRun) }}
{{- $args = append $args (printf "--events=%t" .Values.events.enabled) }}
{{- if .Values.report.enabled }}
{{- $args = append $args (printf "--report-configmap=%s" (include "kube-image-cleanup.reportName" .)) }}
{{- $args = append $args (printf "--report-runs=%d" (int .Values.report.runs)) }}
{{- end }}
{{- with .Values.metrics.pushgateway.url }}
{{- $args = append $args (printf "--pushgateway-url=%s" .) }}
{{- end }}
{{- toYaml $args }}
{{- end }}

{{/*
The flags of every command that sweeps nodes (`run`, `pull`): the runtime, which nodes, how many at
once, the node timeout, the output, and the helper pods' shape. A YAML list; callers concat it.
*/}}
{{- define "kube-image-cleanup.sweepArgs" -}}
{{- $args := list }}
{{- $args = append $args (printf "--client=%s" .Values.runtime.client) }}
{{- with .Values.runtime.socket }}
{{- $args = append $args (printf "--socket=%s" .) }}
{{- end }}
{{- with .Values.runtime.nsenterTarget }}
{{- $args = append $args (printf "--nsenter-target=%v" .) }}
{{- end }}
{{- $args = append $args (printf "--node-selector=%s" .Values.nodes.selector) }}
{{- range .Values.nodes.names }}
{{- $args = append $args (printf "--nodes=%s" .) }}
{{- end }}
{{- range .Values.nodes.exclude }}
{{- $args = append $args (printf "--exclude-nodes=%s" .) }}
{{- end }}
{{- $args = append $args (printf "--skip-not-ready=%t" .Values.nodes.skipNotReady) }}
{{- $args = append $args (printf "--skip-cordoned=%t" .Values.nodes.skipCordoned) }}
{{- $args = append $args (printf "--concurrency=%d" (int .Values.concurrency)) }}
{{- $args = append $args (printf "--node-timeout=%s" .Values.timeouts.node) }}
{{- $args = append $args (printf "--log-format=%s" .Values.logFormat) }}
{{- $args = append $args (printf "--output=%s" .Values.output) }}
{{- $args = append $args (printf "--namespace=%s" .Release.Namespace) }}
{{- /* Helper pods carry app.kubernetes.io/instance=<release>: each run sweeps its release's leftovers. */}}
{{- $args = append $args (printf "--instance=%s" .Release.Name) }}
{{- $args = append $args (printf "--helper-mode=%s" .Values.helper.mode) }}
{{- if eq .Values.helper.mode "socket" }}
{{- $args = append $args (printf "--helper-socket-uid=%d" (int .Values.helper.socket.uid)) }}
{{- $args = append $args (printf "--helper-socket-gid=%d" (int .Values.helper.socket.gid)) }}
{{- end }}
{{- $args = append $args (printf "--helper-image=%s" (include "kube-image-cleanup.image" .)) }}
{{- $args = append $args (printf "--helper-image-pull-policy=%s" .Values.image.pullPolicy) }}
{{- range .Values.imagePullSecrets }}
{{- $args = append $args (printf "--helper-image-pull-secret=%s" .name) }}
{{- end }}
{{- /* Always all four: an empty value means none, where a missing flag would mean the CLI's default. */}}
{{- $requests := .Values.helper.resources.requests | default dict }}
{{- $limits := .Values.helper.resources.limits | default dict }}
{{- $args = append $args (printf "--helper-cpu-request=%v" ($requests.cpu | default "")) }}
{{- $args = append $args (printf "--helper-memory-request=%v" ($requests.memory | default "")) }}
{{- $args = append $args (printf "--helper-cpu-limit=%v" ($limits.cpu | default "")) }}
{{- $args = append $args (printf "--helper-memory-limit=%v" ($limits.memory | default "")) }}
{{- $args = append $args (printf "--helper-tolerations=%s" (toJson .Values.helper.tolerations)) }}
{{- with .Values.helper.priorityClassName }}
{{- $args = append $args (printf "--priority-class=%s" .) }}
{{- end }}
{{- if not .Values.rbac.allowPodDeletion }}
{{- $args = append $args "--keep-pods" }}
{{- end }}
{{- toYaml $args }}
{{- end }}

{{/*
Pre-pull's command line (prePull.*): `kube-image-cleanup pull` with the images, the pull Secrets
(registryPullSecrets), the retry policy and the same sweep flags as `run`.
test/unit/chart/prepull.test.ts parses it with the CLI's own option table and config loader.
*/}}
{{- define "kube-image-cleanup.pullArgs" -}}
{{- $args := list "pull" }}
{{- range .Values.prePull.images }}
{{- $args = append $args . }}
{{- end }}
{{- range .Values.registryPullSecrets }}
{{- $args = append $args (printf "--registry-pull-secret=%s" .) }}
{{- end }}
{{- $args = append $args (printf "--pull-retries=%d" (int .Values.prePull.retries)) }}
{{- $args = append $args (printf "--pull-backoff=%s" .Values.prePull.backoff) }}
{{- $args = concat $args (include "kube-image-cleanup.sweepArgs" . | fromYamlArray) }}
{{- toYaml $args }}
{{- end }}


{{/*
A `/re/` or `/re/i` pattern must be a regular expression RE2 accepts (the controller compiles it
with re2js; Go's regexp is RE2 too): fail the install naming the value's key, rather than every run.
The schema only checks the shape, as a JSON schema cannot compile an expression. `regexMatch` is
false for an invalid expression; `|^` makes every valid one match the empty string (appending it
turns no invalid expression into a valid one that matches "").
*/}}
{{- define "kube-image-cleanup.checkGrepPattern" -}}
{{- $key := index . 0 }}
{{- $pattern := index . 1 }}
{{- if and (hasPrefix "/" $pattern) (regexMatch "^/.+/i?$" $pattern) }}
{{- $body := regexReplaceAll "^/(.+)/i?$" $pattern "${1}" }}
{{- if not (regexMatch (printf "%s|^" $body) "") }}
{{- fail (printf "%s: %q is not a regular expression RE2 accepts (grep -E syntax; no backreferences or lookaround); write /re/ or /re/i" $key $pattern) }}
{{- end }}
{{- end }}
{{- end }}
