{{/*
Operator commands on a schedule (CronJobs): the service's own image, environment and
restricted security context, one run at a time, never retried into a storm. Used for
key rotation (auth's token-signing keys, audit's checkpoint-signing key). Index builds
need no Job: every service syncs its indexes at boot, before it reports ready, so a
rollout builds them before the new pods take traffic.
*/}}
{{- define "praxis-lib.cronjobs" -}}
{{- $root := . -}}
{{- range $i, $job := .Values.cronJobs }}
{{- if $i }}
---
{{- end }}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ printf "%s-%s" (include "praxis-lib.fullname" $root) $job.name | trunc 52 | trimSuffix "-" }}
  labels:
    {{- include "praxis-lib.labels" $root | nindent 4 }}
spec:
  schedule: {{ $job.schedule | quote }}
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 3600
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 5
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 1800
      ttlSecondsAfterFinished: 86400
      template:
        metadata:
          # Not the service's selector labels: its Service and PDB must not count job pods.
          labels:
            app.kubernetes.io/name: {{ printf "%s-job" (include "praxis-lib.name" $root) | quote }}
            app.kubernetes.io/instance: {{ $root.Release.Name }}
            app.kubernetes.io/part-of: praxis
            praxis.io/region: {{ $root.Values.global.region | quote }}
            praxis.io/job: {{ $job.name | quote }}
        spec:
          restartPolicy: Never
          serviceAccountName: {{ include "praxis-lib.fullname" $root }}
          automountServiceAccountToken: false
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            runAsGroup: 10001
            seccompProfile: { type: RuntimeDefault }
          containers:
            - name: {{ $job.name | quote }}
              image: {{ include "praxis-lib.image" $root | quote }}
              imagePullPolicy: {{ $root.Values.image.pullPolicy }}
              command: ["node", "--enable-source-maps", "--import", "@praxis/platform/telemetry-register"]
              args:
                {{- toYaml $job.args | nindent 16 }}
              envFrom:
                - configMapRef:
                    name: {{ include "praxis-lib.fullname" $root }}
              env:
                {{- range $name, $ref := $root.Values.secretEnv }}
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
                requests: { cpu: 50m, memory: 128Mi }
                limits: { cpu: 500m, memory: 256Mi }
              volumeMounts:
                - { name: tmp, mountPath: /tmp }
          volumes:
            - name: tmp
              emptyDir: { sizeLimit: 16Mi }
{{- end }}
{{- end -}}
