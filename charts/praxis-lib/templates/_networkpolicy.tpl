{{/*
Default deny for the service's pods; allowed in: only the listed callers (and the
monitoring namespace for /metrics); allowed out: DNS plus the listed destinations.
Nothing external unless a destination says so.
*/}}
{{- define "praxis-lib.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "praxis-lib.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports:
        - { port: {{ .Values.port }}, protocol: TCP }
      from:
        {{- range .Values.networkPolicy.allowFromServices }}
        - podSelector:
            matchLabels: { app.kubernetes.io/name: {{ . | quote }} }
        {{- end }}
        {{- with .Values.networkPolicy.allowFromNamespaces }}
        {{- range . }}
        - namespaceSelector:
            matchLabels: { kubernetes.io/metadata.name: {{ . | quote }} }
        {{- end }}
        {{- end }}
  egress:
    - ports:
        - { port: 53, protocol: UDP }
        - { port: 53, protocol: TCP }
      to:
        - namespaceSelector:
            matchLabels: { kubernetes.io/metadata.name: kube-system }
    {{- if .Values.networkPolicy.allowToServices }}
    - to:
        {{- range .Values.networkPolicy.allowToServices }}
        - podSelector:
            matchLabels: { app.kubernetes.io/name: {{ . | quote }} }
        {{- end }}
    {{- end }}
    {{- range .Values.networkPolicy.allowToNamespaces }}
    - to:
        - namespaceSelector:
            matchLabels: { kubernetes.io/metadata.name: {{ .namespace | quote }} }
      ports:
        {{- range .ports }}
        - { port: {{ . }}, protocol: TCP }
        {{- end }}
    {{- end }}
{{- end }}
{{- end -}}
