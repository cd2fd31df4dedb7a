{{/*
The controller's command line: `kube-image-cleanup run` with one flag per value, each flag and its
value one argv element (`--flag=value`), so a value is never split, never read as another flag and
never reaches a shell. test/unit/chart/args.test.ts parses them with the CLI's own option table
and config loader (src/config/run-options.ts).
*/}}
{{- define "kube-image-cleanup.controllerArgs" -}}
{{- $args := list "run" }}
{{- range .Values.images.include }}
{{- $args = append $args (printf "--include=%s" .) }}
{{- end }}
{{- range .Values.images.exclude }}
{{- $args = append $args (printf "--exclude=%s" .) }}
{{- end }}
{{- with .Values.images.minAge }}
{{- $args = append $args (printf "--min-age=%s" .) }}
{{- end }}
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
{{- $args = append $args (printf "--dry-run=%t" .Values.dryRun) }}
{{- $args = append $args (printf "--node-timeout=%s" .Values.timeouts.node) }}
{{- $args = append $args (printf "--log-format=%s" .Values.logFormat) }}
{{- $args = append $args (printf "--output=%s" .Values.output) }}
{{- $args = append $args (printf "--namespace=%s" .Release.Namespace) }}
{{- /* Helper pods carry app.kubernetes.io/instance=<release>: each run sweeps its release's leftovers. */}}
{{- $args = append $args (printf "--instance=%s" .Release.Name) }}
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
