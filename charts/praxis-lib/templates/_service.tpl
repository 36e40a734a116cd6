{{- define "praxis-lib.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "praxis-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "praxis-lib.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{- define "praxis-lib.pdb" -}}
{{- if .Values.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
spec:
  minAvailable: {{ .Values.pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "praxis-lib.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "praxis-lib.hpa" -}}
{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "praxis-lib.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: { type: Utilization, averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }} }
{{- end }}
{{- end -}}

{{- define "praxis-lib.servicemonitor" -}}
{{- if .Values.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "praxis-lib.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ .Values.serviceMonitor.interval }}
{{- end }}
{{- end -}}
