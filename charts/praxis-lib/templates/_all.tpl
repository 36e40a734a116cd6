{{/* Everything a service chart renders: call this from the chart's one template. */}}
{{- define "praxis-lib.all" -}}
{{- include "praxis-lib.validate" . }}
{{ include "praxis-lib.configmap" . }}
---
{{ include "praxis-lib.serviceaccount" . }}
---
{{ include "praxis-lib.deployment" . }}
---
{{ include "praxis-lib.service" . }}
{{- with (include "praxis-lib.pdb" .) }}
---
{{ . }}
{{- end }}
{{- with (include "praxis-lib.hpa" .) }}
---
{{ . }}
{{- end }}
{{- with (include "praxis-lib.networkpolicy" .) }}
---
{{ . }}
{{- end }}
{{- with (include "praxis-lib.servicemonitor" .) }}
---
{{ . }}
{{- end }}
{{- if hasKey .Values "route" }}
{{- with (include "praxis-lib.route" .) }}
---
{{ . }}
{{- end }}
{{- end }}
{{- with (include "praxis-lib.cronjobs" .) }}
---
{{ . }}
{{- end }}
{{- with (include "praxis-lib.test" .) }}
---
{{ . }}
{{- end }}
{{- end -}}
