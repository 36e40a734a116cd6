{{/* Names and labels shared by every Praxis service chart. */}}
{{- define "praxis-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "praxis-lib.fullname" -}}
{{- printf "praxis-%s" (include "praxis-lib.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "praxis-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "praxis-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "praxis-lib.labels" -}}
{{ include "praxis-lib.selectorLabels" . }}
app.kubernetes.io/part-of: praxis
app.kubernetes.io/version: {{ include "praxis-lib.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
praxis.io/region: {{ .Values.global.region | quote }}
{{- end -}}

{{- define "praxis-lib.imageTag" -}}
{{- default .Values.global.image.tag .Values.image.tag -}}
{{- end -}}

{{- define "praxis-lib.image" -}}
{{- $repo := .Values.image.repository | default (printf "%s/praxis-%s" .Values.global.image.registry (include "praxis-lib.name" .)) -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" $repo (include "praxis-lib.imageTag" .) .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (include "praxis-lib.imageTag" .) -}}
{{- end -}}
{{- end -}}
