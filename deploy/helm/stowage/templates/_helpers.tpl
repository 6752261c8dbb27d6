{{/*
Chart name, truncated to the 63 characters Kubernetes allows in names.
*/}}
{{- define "stowage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, unless it already contains the chart name.
*/}}
{{- define "stowage.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "stowage.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "stowage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stowage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "stowage.labels" -}}
helm.sh/chart: {{ include "stowage.chart" . }}
{{ include "stowage.selectorLabels" . }}
app.kubernetes.io/version: {{ include "stowage.imageTag" . | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: stowage
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "stowage.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stowage.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "stowage.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag | trunc 63 }}
{{- end }}

{{- define "stowage.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Whether the S3 proxy listener is switched on in the rendered configuration.
*/}}
{{- define "stowage.s3ProxyEnabled" -}}
{{- if dig "s3_proxy" "enabled" false (.Values.config | default dict) }}true{{- end }}
{{- end }}

{{/*
The chart-managed Secret: its name, and whether it is needed at all.
*/}}
{{- define "stowage.secretName" -}}
{{- include "stowage.fullname" . }}
{{- end }}

{{- define "stowage.manageSecretKey" -}}
{{- if not .Values.secretKey.existingSecret }}true{{- end }}
{{- end }}

{{- define "stowage.databaseSecretName" -}}
{{- default (include "stowage.secretName" .) .Values.database.existingSecret }}
{{- end }}

{{- define "stowage.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecretKey }}{{ else }}database-url{{ end }}
{{- end }}

{{- define "stowage.databaseConfigured" -}}
{{- if or .Values.database.existingSecret .Values.database.url }}true{{- end }}
{{- end }}

{{- define "stowage.redisSecretName" -}}
{{- default (include "stowage.secretName" .) .Values.redis.existingSecret }}
{{- end }}

{{- define "stowage.redisSecretKey" -}}
{{- if .Values.redis.existingSecret }}{{ .Values.redis.existingSecretKey }}{{ else }}redis-url{{ end }}
{{- end }}

{{- define "stowage.redisConfigured" -}}
{{- if or .Values.redis.existingSecret .Values.redis.url }}true{{- end }}
{{- end }}

{{- define "stowage.secretKeySecretName" -}}
{{- if .Values.secretKey.existingSecret }}{{ .Values.secretKey.existingSecret }}{{ else }}{{ include "stowage.rootKeySecretName" . }}{{ end }}
{{- end }}

{{- define "stowage.secretKeySecretKey" -}}
{{- if .Values.secretKey.existingSecret }}{{ .Values.secretKey.existingSecretKey }}{{ else }}secret-key{{ end }}
{{- end }}

{{/*
The generated root key lives in its own Secret so that it can be kept on uninstall
without keeping the connection URLs.
*/}}
{{- define "stowage.rootKeySecretName" -}}
{{- printf "%s-root-key" (include "stowage.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "stowage.manageConnectionSecret" -}}
{{- if or (and .Values.database.url (not .Values.database.existingSecret)) (and .Values.redis.url (not .Values.redis.existingSecret)) }}true{{- end }}
{{- end }}
