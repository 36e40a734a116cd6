{{- define "praxis-lib.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
data:
  PORT: {{ .Values.port | quote }}
  HOST: "0.0.0.0"
  REGION: {{ .Values.global.region | quote }}
  OTEL_SERVICE_NAME: {{ include "praxis-lib.fullname" . | quote }}
  {{- range $k, $v := .Values.env }}
  {{ $k }}: {{ $v | quote }}
  {{- end }}
{{- end -}}
