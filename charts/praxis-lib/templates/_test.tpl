{{/*
`helm test`: a pod from the service's own image asks the Service for /readyz (through the
Service, so the selector, the port and the NetworkPolicy are all on the path). Same
restricted security context as the service; its own NetworkPolicy lets it reach only the
service and DNS.
*/}}
{{- define "praxis-lib.test" -}}
{{- if .Values.helmTest.enabled }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "praxis-lib.fullname" . }}-test
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
    praxis.io/helm-test: {{ include "praxis-lib.name" . | quote }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: readyz
      image: {{ include "praxis-lib.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command:
        - node
        - -e
        - >-
          fetch('http://{{ include "praxis-lib.fullname" . }}:{{ .Values.port }}/readyz', { signal: AbortSignal.timeout(10000) })
          .then((r) => { console.log('readyz', r.status); process.exit(r.status === 200 ? 0 : 1); },
          (e) => { console.error(String(e)); process.exit(1); })
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        privileged: false
        capabilities: { drop: [ALL] }
      resources:
        requests: { cpu: 10m, memory: 64Mi }
        limits: { cpu: 200m, memory: 128Mi }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "praxis-lib.fullname" . }}-test
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-weight: "-1"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  podSelector:
    matchLabels: { praxis.io/helm-test: {{ include "praxis-lib.name" . | quote }} }
  policyTypes: [Ingress, Egress]
  ingress: []
  egress:
    - ports:
        - { port: 53, protocol: UDP }
        - { port: 53, protocol: TCP }
      to:
        - namespaceSelector:
            matchLabels: { kubernetes.io/metadata.name: kube-system }
          podSelector:
            matchLabels: { k8s-app: kube-dns }
    - ports:
        - { port: {{ .Values.port }}, protocol: TCP }
      to:
        - podSelector:
            matchLabels:
              {{- include "praxis-lib.selectorLabels" . | nindent 14 }}
{{- end }}
{{- end -}}
