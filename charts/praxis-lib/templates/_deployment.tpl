{{- define "praxis-lib.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "praxis-lib.fullname" . }}
  labels:
    {{- include "praxis-lib.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: 0, maxSurge: 1 }
  selector:
    matchLabels:
      {{- include "praxis-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "praxis-lib.labels" . | nindent 8 }}
      annotations:
        # Config changes roll the pods.
        checksum/config: {{ include "praxis-lib.configmap" . | sha256sum }}
    spec:
      serviceAccountName: {{ include "praxis-lib.fullname" . }}
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile: { type: RuntimeDefault }
      # Zones: a hard limit (k8s-verify found ScheduleAnyway leaving 2/1/0 after a rollout),
      # counted per revision so a rolling update spreads its new pods too; a lost zone has
      # no nodes left and so does not block scheduling. Nodes: best effort.
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          matchLabelKeys: [pod-template-hash]
          labelSelector:
            matchLabels:
              {{- include "praxis-lib.selectorLabels" . | nindent 14 }}
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          matchLabelKeys: [pod-template-hash]
          labelSelector:
            matchLabels:
              {{- include "praxis-lib.selectorLabels" . | nindent 14 }}
      containers:
        - name: {{ include "praxis-lib.name" . }}
          image: {{ include "praxis-lib.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "praxis-lib.fullname" . }}
          env:
            {{- range $name, $ref := .Values.secretEnv }}
            - name: {{ $name }}
              valueFrom:
                secretKeyRef: { name: {{ $ref.secret | quote }}, key: {{ $ref.key | quote }} }
            {{- end }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            privileged: false
            capabilities: { drop: [ALL] }
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          startupProbe:
            httpGet: { path: /livez, port: http }
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet: { path: /livez, port: http }
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 5
            failureThreshold: 2
          lifecycle:
            # Let endpoints drop the pod before SIGTERM starts the graceful close.
            preStop:
              sleep: { seconds: 5 }
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
      volumes:
        - name: tmp
          emptyDir: { sizeLimit: 64Mi }
{{- end -}}
