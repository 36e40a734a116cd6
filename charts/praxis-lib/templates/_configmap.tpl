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
  {{- with .Values.global.otelEndpoint }}
  OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
  {{- end }}
  {{- range $k, $v := .Values.env }}
  {{ $k }}: {{ $v | quote }}
  {{- end }}
{{- end -}}
