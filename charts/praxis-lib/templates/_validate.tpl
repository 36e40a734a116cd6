{{/*
Fails the render with every configuration error at once, rather than the first.
*/}}
{{- define "praxis-lib.validate" -}}
{{- $errors := list -}}
{{- $tag := include "praxis-lib.imageTag" . -}}
{{- if or (not $tag) (eq $tag "latest") -}}
{{- $errors = append $errors "image.tag (or global.image.tag) must be a pinned version, never empty or \"latest\"" -}}
{{- end -}}
{{- if and .Values.global.image.requireDigest (not .Values.image.digest) -}}
{{- $errors = append $errors "image.digest must pin the image (sha256:…): this region requires digests (global.image.requireDigest)" -}}
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
{{- /* Names: any secret word anywhere in the name (KEK_PREVIOUS, SIGNING_KEY, DB_PASSWORD_FILE…), except an id or a URL of something public. */ -}}
{{- if and (regexMatch "(?i)(KEK|SECRET|PASSW|TOKEN|PRIVATE|SIGNING|CREDENTIAL|API_?KEY|(^|_)KEYS?($|_))" $name) (not (regexMatch "(?i)_(ID|IDS|URL)$" $name)) -}}
{{- $errors = append $errors (printf "env.%s looks like a secret: reference a Secret through secretEnv instead" $name) -}}
{{- end -}}
{{- /* Values: any user-info in a URL (user:pass@, :pass@, token@), and any connection string of the data tier, which belongs in the Secret with its credentials and TLS settings. */ -}}
{{- if regexMatch "://[^/?#\\s]*@" (toString $value) -}}
{{- $errors = append $errors (printf "env.%s carries credentials in a URL: reference a Secret through secretEnv instead" $name) -}}
{{- end -}}
{{- if regexMatch "(?i)^(mongodb(\\+srv)?|amqps?|rediss?)://" (toString $value) -}}
{{- $errors = append $errors (printf "env.%s is a data-tier connection string: reference a Secret through secretEnv instead" $name) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.minReplicas) 2) -}}
{{- $errors = append $errors "autoscaling.minReplicas must be at least 2 (a PodDisruptionBudget needs a spare)" -}}
{{- end -}}
{{- if and (hasKey .Values "route") .Values.route.enabled (not .Values.route.hostnames) -}}
{{- $errors = append $errors "route.hostnames must list the region's host (and its practices' wildcard) when the route is enabled" -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\n%s configuration errors:\n  - %s" (include "praxis-lib.fullname" .) (join "\n  - " $errors)) -}}
{{- end -}}
{{- end -}}
