{{/*
Default deny for the service's pods; allowed in: only the listed callers, its own
`helm test` pod, and the listed namespaces (monitoring for /metrics, the Gateway's data
plane for the gateway); allowed out: cluster DNS (kube-dns pods only), the listed
services, and the listed namespaces on the listed ports (the data tier of this region,
the peer region's data tier through its east-west address, the OpenTelemetry collector).
Nothing external, unless the chart lists ports in allowToInternet (messaging: its mail relay
and SMS providers): then those ports only, to public addresses only (never the cluster's,
the peers' private ranges or the cloud metadata address).
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
  # The service's pods and its scheduled jobs' pods (praxis-lib.cronjobs), which need the
  # same paths out; only the service's pods listen.
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
    matchExpressions:
      - key: app.kubernetes.io/name
        operator: In
        values: [{{ include "praxis-lib.name" . | quote }}, {{ printf "%s-job" (include "praxis-lib.name" .) | quote }}]
  policyTypes: [Ingress, Egress]
  ingress:
    - ports:
        - { port: {{ .Values.port }}, protocol: TCP }
      from:
        - podSelector:
            matchLabels: { praxis.io/helm-test: {{ include "praxis-lib.name" . | quote }} }
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
          podSelector:
            matchLabels: { k8s-app: kube-dns }
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
          {{- with .podLabels }}
          podSelector:
            matchLabels:
              {{- toYaml . | nindent 14 }}
          {{- end }}
      ports:
        {{- range .ports }}
        - { port: {{ . }}, protocol: TCP }
        {{- end }}
    {{- end }}
    {{- with .Values.networkPolicy.allowToInternet }}
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
            except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 127.0.0.0/8]
      ports:
        {{- range . }}
        - { port: {{ . }}, protocol: TCP }
        {{- end }}
    {{- end }}
    {{- range .Values.networkPolicy.allowToCidrs }}
    - to:
        - ipBlock: { cidr: {{ .cidr | quote }} }
      ports:
        {{- range .ports }}
        - { port: {{ . }}, protocol: TCP }
        {{- end }}
    {{- end }}
{{- end }}
{{- end -}}
