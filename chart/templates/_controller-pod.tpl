{{/*
The controller's pod template, shared by the cleaning CronJob and pre-pull's CronJob and Job: only
its command line (`args`, rendered YAML list) and component label differ. Called with
(dict "root" . "args" (include ...) "component" "controller").
*/}}
{{- define "kube-image-cleanup.controllerPodTemplate" -}}
{{- $root := .root }}
{{- $args := .args }}
{{- $component := .component -}}
metadata:
  labels:
    {{- include "kube-image-cleanup.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $component }}
    {{- with $root.Values.controller.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $root.Values.controller.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "kube-image-cleanup.serviceAccountName" $root | quote }}
  restartPolicy: Never
  terminationGracePeriodSeconds: {{ $root.Values.controller.terminationGracePeriodSeconds | toJson }}
  {{- if $root.Values.controller.hostNetwork }}
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  {{- end }}
  {{- with $root.Values.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $root.Values.controller.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.controller.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.controller.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: controller
      image: {{ include "kube-image-cleanup.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy | quote }}
      args:
        {{- $args | nindent 8 }}
      env:
        # The controller sets ownerReferences on its helper pods to its own Pod, so deleting
        # the Job removes them even if the controller died, and creates them in its namespace.
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_UID
          valueFrom:
            fieldRef:
              fieldPath: metadata.uid
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        # Whether the admission policy guards this account's pods: every run's log (run and pull
        # alike: both create privileged helper pods) says so where it does not.
        - name: ADMISSION_POLICY
          value: {{ include "kube-image-cleanup.admissionPolicyState" $root | quote }}
        {{- with $root.Values.controller.nodeOptions }}
        - name: NODE_OPTIONS
          value: {{ . | quote }}
        {{- end }}
        {{- with $root.Values.controller.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      resources:
        {{- toYaml $root.Values.controller.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        # The root file system is read-only; Node.js and the controller may still need a
        # scratch directory.
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
{{- end }}
