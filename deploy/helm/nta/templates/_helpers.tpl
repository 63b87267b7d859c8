{{/* Names, labels and values shared by the templates. */}}

{{- define "nta.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped base name; components append "-collector", "-agent", "-nats"... */}}
{{- define "nta.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "nta.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "nta.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nta
{{- end -}}

{{/* Selector labels of one component: include "nta.selectorLabels" (list . "collector") */}}
{{- define "nta.selectorLabels" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "nta.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* An NTA image: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "nta.image" -}}
{{- $ctx := index . 0 -}}
{{- $image := index . 1 -}}
{{- printf "%s:%s" $image.repository (default $ctx.Chart.AppVersion $image.tag) -}}
{{- end -}}

{{/* The Secret holding DATABASE_URL and credentials: the chart's, or the operator's own. */}}
{{- define "nta.secretName" -}}
{{- default (printf "%s-secrets" (include "nta.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{- define "nta.natsUrl" -}}
{{- if eq .Values.nats.mode "bundled" -}}
{{- printf "nats://%s-nats.%s.svc:4222" (include "nta.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- required "nats.url is required when nats.mode is external" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* NATS credentials from the Secret; a key the Secret lacks leaves the variable unset. */}}
{{- define "nta.natsCredentialEnv" -}}
{{- range $key := list "NATS_USER" "NATS_PASSWORD" "NATS_TOKEN" }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "nta.secretName" $ }}
      key: {{ $key }}
      optional: true
{{- end }}
{{- end -}}

{{/* Pod security settings every NTA pod shares: a fixed non-root uid, the default seccomp profile. */}}
{{- define "nta.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}
