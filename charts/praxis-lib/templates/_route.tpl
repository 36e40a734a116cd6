{{/*
The gateway's public route: a Gateway API HTTPRoute attached to the region's shared Gateway
(k8s/edge/gateway.yaml: HTTPS listeners for the region host and the practices' subdomains,
certificates from cert-manager, HTTP only to redirect). TLS ends at the Gateway.
*/}}
{{- define "praxis-lib.route" -}}
{{- if .Values.route.enabled }}
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
spec:
  parentRefs:
    - group: gateway.networking.k8s.io
      kind: Gateway
      name: {{ .Values.route.gateway.name | quote }}
      namespace: {{ .Values.route.gateway.namespace | quote }}
      sectionName: {{ .Values.route.gateway.sectionName | quote }}
  hostnames:
    {{- range .Values.route.hostnames }}
    - {{ . | quote }}
    {{- end }}
  rules:
    - matches:
        - path: { type: PathPrefix, value: / }
      backendRefs:
        - name: {{ include "praxis-lib.fullname" . }}
          port: {{ .Values.port }}
      timeouts:
        request: {{ .Values.route.requestTimeout | quote }}
{{- end }}
{{- end -}}
