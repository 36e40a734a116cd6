{{/*
Fails the render with every configuration error at once, rather than the first.
*/}}
{{- define "praxis-lib.validate" -}}
{{- $errors := list -}}
{{- $tag := include "praxis-lib.imageTag" . -}}
{{- if and (not .Values.image.digest) (or (not $tag) (eq $tag "latest")) -}}
{{- $errors = append $errors "image.tag (or global.image.tag) must be a pinned version, never empty or \"latest\"" -}}
{{- end -}}
{{- if and (not .Values.image.repository) (not .Values.global.image.registry) -}}
{{- $errors = append $errors "image.repository or global.image.registry must be set" -}}
{{- end -}}
{{- if not .Values.global.region -}}
{{- $errors = append $errors "global.region must name the region this release runs in" -}}
{{- end -}}
{{- range $k := list "requests" "limits" -}}
{{- $r := index $.Values.resources $k | default dict -}}
{{- if or (not $r.cpu) (not $r.memory) -}}
{{- $errors = append $errors (printf "resources.%s.cpu and resources.%s.memory must be set" $k $k) -}}
{{- end -}}
{{- end -}}
{{- range $name, $ref := .Values.secretEnv -}}
{{- if or (not $ref.secret) (not $ref.key) -}}
{{- $errors = append $errors (printf "secretEnv.%s must name an existing Secret and key" $name) -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := .Values.env -}}
{{- if regexMatch "(?i)(^|_)(KEK|SECRET|PASSWORD|TOKEN|PRIVATE_KEY|CREDENTIALS?)$" $name -}}
{{- $errors = append $errors (printf "env.%s looks like a secret: reference a Secret through secretEnv instead" $name) -}}
{{- end -}}
{{- if regexMatch "://[^/@]+:[^/@]+@" (toString $value) -}}
{{- $errors = append $errors (printf "env.%s carries credentials in a URL: reference a Secret through secretEnv instead" $name) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.minReplicas) 2) -}}
{{- $errors = append $errors "autoscaling.minReplicas must be at least 2 (a PodDisruptionBudget needs a spare)" -}}
{{- end -}}
{{- if and (hasKey .Values "ingress") .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- $errors = append $errors "ingress.host must be set when the ingress is enabled" -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\n%s configuration errors:\n  - %s" (include "praxis-lib.fullname" .) (join "\n  - " $errors)) -}}
{{- end -}}
{{- end -}}
