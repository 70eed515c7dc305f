{{/*
Names. The controller's own fixed names (Lease waxwing-controller, Secret waxwing-webhook-tls,
webhook configurations waxwing-mutating / waxwing-validating) do not follow these: they are
constants in the controller.
*/}}
{{- define "waxwing.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "waxwing.fullname" -}}
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

{{- define "waxwing.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Service the API server reaches the webhooks through (--webhook-service). */}}
{{- define "waxwing.webhookService" -}}
{{- printf "%s-webhook" (include "waxwing.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The plugin ConfigMap (--plugins-configmap). */}}
{{- define "waxwing.pluginsConfigMap" -}}
{{- printf "%s-plugins" (include "waxwing.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "waxwing.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "waxwing.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "waxwing.labels" -}}
helm.sh/chart: {{ include "waxwing.chart" . }}
{{ include "waxwing.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: waxwing
{{- end }}

{{/* Selects the controller's pods; app.kubernetes.io/component tells them from the Services. */}}
{{- define "waxwing.selectorLabels" -}}
app.kubernetes.io/name: {{ include "waxwing.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "waxwing.podSelectorLabels" -}}
{{ include "waxwing.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "waxwing.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
