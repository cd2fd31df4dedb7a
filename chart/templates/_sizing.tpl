{{/*
How many nodes one run can reach, for the install notes: a warning when the nodes this release
selects cannot all be cleaned in one run with its concurrency and timeouts.runSeconds, empty
otherwise (also when the count is not known, or the run has no deadline).

The nodes counted: nodes.names when given (minus nodes.exclude); else, at install or upgrade, the
cluster's nodes (lookup; `helm template` sees none) that match nodes.selector (terms `k=v`, `k==v`,
`k!=v`, `k`, `!k`; a selector with `in`/`notin` is not evaluated here) minus nodes.exclude.

One node is taken as 5 s: from its helper pod's create to its result read a node took 5.5-5.8 s
on a loaded 2-core machine's real kubelet, and 2.8 s a node at concurrency 10 with 2.5 s agents
(docs/sizing.md in the project). A run takes about ceil(nodes / concurrency) x 5 s.
*/}}
{{- define "kube-image-cleanup.sizingSecondsPerNode" -}}5{{- end }}

{{- define "kube-image-cleanup.selectedNodes" -}}
{{- $exclude := .Values.nodes.exclude | default list }}
{{- $count := -1 }}
{{- $from := "" }}
{{- if .Values.nodes.names }}
{{- $count = 0 }}
{{- range $name := .Values.nodes.names }}
{{- if not (has $name $exclude) }}{{ $count = add1 $count }}{{ end }}
{{- end }}
{{- $from = "nodes.names" }}
{{- else }}
{{- $selector := .Values.nodes.selector | default "" }}
{{- $nodes := lookup "v1" "Node" "" "" }}
{{- if and $nodes (not (contains "(" $selector)) }}
{{- $count = int (include "kube-image-cleanup.countMatching" (dict "items" ($nodes.items | default list) "selector" $selector "exclude" $exclude)) }}
{{- $from = printf "nodes in the cluster now that match nodes.selector %q" $selector }}
{{- end }}
{{- end }}
{{- dict "count" $count "from" $from | toJson }}
{{- end }}

{{/*
How many of `items` (Node objects) match `selector` (the simple terms above) and are not named in
`exclude`.
*/}}
{{- define "kube-image-cleanup.countMatching" -}}
{{- $terms := list }}
{{- range $t := splitList "," .selector }}
{{- if trim $t }}{{ $terms = append $terms (trim $t) }}{{ end }}
{{- end }}
{{- $count := 0 }}
{{- range $node := .items }}
{{- $labels := $node.metadata.labels | default dict }}
{{- $match := true }}
{{- range $t := $terms }}
{{- if contains "!=" $t }}
{{- $kv := splitn "!=" 2 $t }}
{{- if and (hasKey $labels (trim $kv._0)) (eq (get $labels (trim $kv._0)) (trim $kv._1)) }}{{ $match = false }}{{ end }}
{{- else if contains "=" $t }}
{{- $kv := splitn "=" 2 (replace "==" "=" $t) }}
{{- if not (and (hasKey $labels (trim $kv._0)) (eq (get $labels (trim $kv._0)) (trim $kv._1))) }}{{ $match = false }}{{ end }}
{{- else if hasPrefix "!" $t }}
{{- if hasKey $labels (trim (trimPrefix "!" $t)) }}{{ $match = false }}{{ end }}
{{- else if not (hasKey $labels $t) }}{{ $match = false }}
{{- end }}
{{- end }}
{{- if and $match (not (has $node.metadata.name $.exclude)) }}{{ $count = add1 $count }}{{ end }}
{{- end }}
{{- $count }}
{{- end }}

{{- define "kube-image-cleanup.reachWarning" -}}
{{- $selected := include "kube-image-cleanup.selectedNodes" . | fromJson }}
{{- $count := int $selected.count }}
{{- $deadline := .Values.timeouts.runSeconds }}
{{- if and (gt $count 0) (not (kindIs "invalid" $deadline)) }}
{{- $deadline = int $deadline }}
{{- $per := int (include "kube-image-cleanup.sizingSecondsPerNode" .) }}
{{- $c := int .Values.concurrency }}
{{- $expected := mul (div (add $count (sub $c 1)) $c) $per }}
{{- if gt $expected $deadline }}
{{- $reach := mul (div $deadline $per) $c }}
{{- $needC := div (add (mul $count $per) (sub $deadline 1)) $deadline }}
WARNING: one run cannot clean all {{ $count }} selected nodes ({{ $selected.from }}). At
concurrency {{ $c }} and about {{ $per }} s a node they take about {{ $expected }} s, and
timeouts.runSeconds={{ $deadline }} ends the run first: about {{ $reach }} nodes are reached per run, the
others wait for a later one. Raise concurrency to {{ if le $needC 500 }}at least {{ $needC }}{{ else }}500 (the most)
and split the nodes across releases (nodes.selector){{ end }}, or timeouts.runSeconds to at least {{ $expected }}
(see docs/sizing.md in the project).
{{- end }}
{{- end }}
{{- end }}
