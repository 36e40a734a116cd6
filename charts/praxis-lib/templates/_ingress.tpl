{{- define "praxis-lib.ingress" -}}
{{- if .Values.ingress.enabled }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
  annotations:
    {{- toYaml .Values.ingress.annotations | nindent 4 }}
spec:
  ingressClassName: {{ .Values.ingress.className | quote }}
  tls:
    - hosts: [{{ .Values.ingress.host | quote }}, {{ printf "*.%s" .Values.ingress.host | quote }}]
      secretName: {{ .Values.ingress.tlsSecret | quote }}
  rules:
    {{- range list .Values.ingress.host (printf "*.%s" .Values.ingress.host) }}
    - host: {{ . | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ include "praxis-lib.fullname" $ }}
                port: { name: http }
    {{- end }}
{{- end }}
{{- end -}}
