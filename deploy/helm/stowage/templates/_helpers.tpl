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

{{/* "<fullname>-<suffix>", within 63 characters. Call with (list . "suffix"). */}}
{{- define "stowage.suffixed" -}}
{{- $ctx := index . 0 }}
{{- printf "%s-%s" (include "stowage.fullname" $ctx | trunc (int (sub 62 (len (index . 1))))) (index . 1) | trimSuffix "-" }}
{{- end }}

{{- define "stowage.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component (server, worker, migrations, postgresql, redis).
Call with (dict "ctx" . "component" "server"). Selectors are immutable: never change them.
*/}}
{{- define "stowage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stowage.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of every object; call with (dict "ctx" . "component" "server"). */}}
{{- define "stowage.labels" -}}
helm.sh/chart: {{ include "stowage.chart" .ctx }}
{{ include "stowage.selectorLabels" . }}
app.kubernetes.io/version: {{ include "stowage.imageTag" .ctx | quote }}
app.kubernetes.io/part-of: stowage
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
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
Deep merge of two maps, the second winning key by key (maps merge, everything else,
lists included, is replaced). Unlike sprig's merge functions an explicit false, 0 or
"" in the second map wins too. Call with (dict "base" MAP "over" MAP); returns JSON.
*/}}
{{- define "stowage.deepMerge" -}}
{{- $out := deepCopy (.base | default dict) }}
{{- range $k, $v := (.over | default dict) }}
{{- $cur := get $out $k }}
{{- if and (kindIs "map" $v) (kindIs "map" $cur) }}
{{- $_ := set $out $k (include "stowage.deepMerge" (dict "base" $cur "over" $v) | fromJson) }}
{{- else }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* Public URL of the dashboard, from the dashboard Ingress host when there is one. */}}
{{- define "stowage.publicUrl" -}}
{{- if and .Values.ingress.enabled .Values.ingress.dashboard.host }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.dashboard.tlsSecretName))) .Values.ingress.dashboard.host }}
{{- end }}
{{- end }}

{{/*
Configuration the chart derives from its own values. `config` is merged over it, so any
key can still be set explicitly; the environment variables of the pods win over both.
*/}}
{{- define "stowage.generatedConfig" -}}
server:
  listen: {{ printf ":%v" .Values.containerPorts.http | quote }}
  {{- with include "stowage.publicUrl" . }}
  public_url: {{ . | quote }}
  {{- end }}
log:
  format: json
db:
  # The migration Job migrates before the replicas roll; with the bundled evaluation
  # PostgreSQL (which does not exist before install) the replicas migrate at start-up too.
  migrate_on_start: {{ or (not (include "stowage.migrationHook" .)) .Values.bundledPostgresql.enabled }}
s3_proxy:
  listen: {{ printf ":%v" .Values.containerPorts.s3 | quote }}
  {{- if and .Values.ingress.enabled .Values.ingress.s3.enabled .Values.ingress.s3.hostSuffixes }}
  host_suffixes:
    {{- toYaml .Values.ingress.s3.hostSuffixes | nindent 4 }}
  {{- end }}
{{- if or .Values.staticAdmin.enabled (include "stowage.oidcSecretConfigured" .) }}
auth:
  {{- if .Values.staticAdmin.enabled }}
  static:
    enabled: true
    username: {{ .Values.staticAdmin.username | quote }}
    password_hash_env: STOWAGE_STATIC_ADMIN_HASH
  {{- end }}
  {{- if include "stowage.oidcSecretConfigured" . }}
  oidc:
    client_secret_env: STOWAGE_OIDC_CLIENT_SECRET
  {{- end }}
{{- end }}
{{- if .Values.worker.enabled }}
# The worker Deployment runs the background jobs; the API replicas only serve.
workers:
  enabled: false
{{- end }}
{{- end }}

{{/* The configuration file of the API replicas, as a map (JSON). */}}
{{- define "stowage.config" -}}
{{- include "stowage.deepMerge" (dict "base" (include "stowage.generatedConfig" . | fromYaml) "over" .Values.config) }}
{{- end }}

{{/* The worker's file: the same, with the background jobs switched on. */}}
{{- define "stowage.workerConfig" -}}
{{- include "stowage.deepMerge" (dict "base" (include "stowage.config" . | fromJson) "over" (dict "workers" (dict "enabled" true))) }}
{{- end }}

{{/* Whether the S3 proxy listener is switched on in the rendered configuration. */}}
{{- define "stowage.s3ProxyEnabled" -}}
{{- if dig "s3_proxy" "enabled" false (include "stowage.config" . | fromJson) }}true{{- end }}
{{- end }}

{{/* Migrations run as a Helm hook Job (otherwise every replica migrates at start-up). */}}
{{- define "stowage.migrationHook" -}}
{{- if .Values.migrations.enabled }}true{{- end }}
{{- end }}

{{/*
The chart-managed Secret holding connection URLs and other secrets given inline.
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
{{- if or .Values.database.existingSecret .Values.database.url .Values.bundledPostgresql.enabled }}true{{- end }}
{{- end }}

{{- define "stowage.redisSecretName" -}}
{{- default (include "stowage.secretName" .) .Values.redis.existingSecret }}
{{- end }}

{{- define "stowage.redisSecretKey" -}}
{{- if .Values.redis.existingSecret }}{{ .Values.redis.existingSecretKey }}{{ else }}redis-url{{ end }}
{{- end }}

{{- define "stowage.redisConfigured" -}}
{{- if or .Values.redis.existingSecret .Values.redis.url .Values.bundledRedis.enabled }}true{{- end }}
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
{{- include "stowage.suffixed" (list . "root-key") }}
{{- end }}

{{- define "stowage.staticAdminSecretName" -}}
{{- default (include "stowage.secretName" .) .Values.staticAdmin.existingSecret }}
{{- end }}

{{- define "stowage.staticAdminSecretKey" -}}
{{- if .Values.staticAdmin.existingSecret }}{{ .Values.staticAdmin.existingSecretKey }}{{ else }}static-admin-hash{{ end }}
{{- end }}

{{- define "stowage.oidcSecretConfigured" -}}
{{- if or .Values.oidc.existingSecret .Values.oidc.clientSecret }}true{{- end }}
{{- end }}

{{- define "stowage.oidcSecretName" -}}
{{- default (include "stowage.secretName" .) .Values.oidc.existingSecret }}
{{- end }}

{{- define "stowage.oidcSecretKey" -}}
{{- if .Values.oidc.existingSecret }}{{ .Values.oidc.existingSecretKey }}{{ else }}oidc-client-secret{{ end }}
{{- end }}

{{/* Whether the chart-managed Secret has anything to hold. */}}
{{- define "stowage.manageConnectionSecret" -}}
{{- $v := .Values }}
{{- if or (and $v.database.url (not $v.database.existingSecret)) (and $v.redis.url (not $v.redis.existingSecret)) $v.bundledPostgresql.enabled $v.bundledRedis.enabled (and $v.staticAdmin.enabled $v.staticAdmin.passwordHash (not $v.staticAdmin.existingSecret)) (and $v.oidc.clientSecret (not $v.oidc.existingSecret)) }}true{{- end }}
{{- end }}

{{/* Names of the bundled evaluation servers. */}}
{{- define "stowage.postgresqlName" -}}
{{- include "stowage.suffixed" (list . "postgresql") }}
{{- end }}
{{- define "stowage.redisName" -}}
{{- include "stowage.suffixed" (list . "redis") }}
{{- end }}

{{/*
Environment shared by the API and worker containers: listen addresses, the root key,
PostgreSQL and Redis URLs, the static admin hash and the OIDC client secret, all from Secrets.
*/}}
{{- define "stowage.env" -}}
- name: STOWAGE_LISTEN
  value: {{ printf ":%v" .Values.containerPorts.http | quote }}
- name: STOWAGE_S3_PROXY_LISTEN
  value: {{ printf ":%v" .Values.containerPorts.s3 | quote }}
- name: STOWAGE_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "stowage.secretKeySecretName" . }}
      key: {{ include "stowage.secretKeySecretKey" . }}
{{- if include "stowage.databaseConfigured" . }}
- name: STOWAGE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "stowage.databaseSecretName" . }}
      key: {{ include "stowage.databaseSecretKey" . }}
{{- end }}
{{- if include "stowage.redisConfigured" . }}
- name: STOWAGE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "stowage.redisSecretName" . }}
      key: {{ include "stowage.redisSecretKey" . }}
{{- end }}
{{- if .Values.staticAdmin.enabled }}
- name: STOWAGE_STATIC_ADMIN_HASH
  valueFrom:
    secretKeyRef:
      name: {{ include "stowage.staticAdminSecretName" . }}
      key: {{ include "stowage.staticAdminSecretKey" . }}
{{- end }}
{{- if include "stowage.oidcSecretConfigured" . }}
- name: STOWAGE_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "stowage.oidcSecretName" . }}
      key: {{ include "stowage.oidcSecretKey" . }}
{{- end }}
{{- with .Values.nodeOptions }}
- name: NODE_OPTIONS
  value: {{ . | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Rolls the pods when the configuration or an inline secret changes. */}}
{{- define "stowage.podChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secrets: {{ printf "%s|%s|%s|%s|%s" .Values.database.url .Values.redis.url .Values.secretKey.value .Values.staticAdmin.passwordHash .Values.oidc.clientSecret | sha256sum }}
{{- end }}

{{- define "stowage.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Topology spread of one component: the values', or zones then nodes, best effort. */}}
{{- define "stowage.topologySpread" -}}
{{- $ctx := .ctx }}
{{- if $ctx.Values.topologySpreadConstraints }}
{{- toYaml $ctx.Values.topologySpreadConstraints }}
{{- else }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "stowage.selectorLabels" . | nindent 6 }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "stowage.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}
