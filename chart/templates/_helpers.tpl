{{/* Chart name, overridable with nameOverride. */}}
{{- define "kube-image-cleanup.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: release-chart, or the release name alone when it already contains the chart name.
Truncated to 52 characters: the CronJob controller appends an 11-character suffix to Job names,
which must stay within 63.
*/}}
{{- define "kube-image-cleanup.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "kube-image-cleanup.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels. Like every value these templates render into YAML, each is quoted: a value with a
newline or a colon stays one string and can never add a key (values.schema.json rejects such values
already; the quoting holds with --skip-schema-validation too).
*/}}
{{- define "kube-image-cleanup.labels" -}}
helm.sh/chart: {{ include "kube-image-cleanup.chart" . | quote }}
{{ include "kube-image-cleanup.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end }}

{{/* Selector labels: name and instance only, never anything that changes on upgrade. */}}
{{- define "kube-image-cleanup.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-image-cleanup.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/* Name of the service account the controller runs as. */}}
{{- define "kube-image-cleanup.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kube-image-cleanup.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false: name an existing service account" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the ClusterRole and ClusterRoleBinding: cluster-scoped, so the namespace is part of it and
two releases of the same name in different namespaces do not collide.
*/}}
{{- define "kube-image-cleanup.clusterRoleName" -}}
{{- printf "%s-%s" (include "kube-image-cleanup.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Image reference: repository@digest when a digest is given, else repository:tag (tag defaults to appVersion). */}}
{{- define "kube-image-cleanup.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Fails with a clear message when a required value is missing. The schema rejects these already; this
guard keeps the message when schema validation is skipped (--skip-schema-validation).
*/}}
{{- define "kube-image-cleanup.validate" -}}
{{- if not .Values.schedule }}
{{- fail "schedule is required: set a cron schedule, e.g. --set schedule='0 3 * * *'" }}
{{- end }}
{{- if not (and .Values.images .Values.images.include) }}
{{- fail "images.include is required: give at least one image glob, e.g. --set 'images.include={docker.io/acme/*}'" }}
{{- end }}
{{- if and .Values.admissionPolicy.required (ne (include "kube-image-cleanup.admissionPolicyState" .) "installed") }}
{{- if .Values.admissionPolicy.create }}
{{- fail "admissionPolicy.required=true, but the API server does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (Kubernetes 1.30 and later): without it, whoever holds the controller's service-account token can create any privileged pod in the release namespace (root on every node). Install on a Kubernetes 1.30+ API server, or set admissionPolicy.required=false to accept that (NOTES.txt and every run's log will say so)" }}
{{- else }}
{{- fail "admissionPolicy.required=true contradicts admissionPolicy.create=false: set admissionPolicy.create=true" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Whether this release's admission policy is installed (admission-policy.yaml): "installed",
"not-served" (the API server does not serve admissionregistration.k8s.io/v1
ValidatingAdmissionPolicy: nothing is rendered) or "disabled" (admissionPolicy.create=false). The
controller gets it as ADMISSION_POLICY and says so in every run's log where it is not installed.
*/}}
{{- define "kube-image-cleanup.admissionPolicyState" -}}
{{- if not .Values.admissionPolicy.create -}}
disabled
{{- else if .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy" -}}
installed
{{- else -}}
not-served
{{- end -}}
{{- end }}

{{/* Name of the run-report ConfigMap (fullname is at most 52 characters, so this fits 63). */}}
{{- define "kube-image-cleanup.reportName" -}}
{{- printf "%s-report" (include "kube-image-cleanup.fullname" .) }}
{{- end }}
