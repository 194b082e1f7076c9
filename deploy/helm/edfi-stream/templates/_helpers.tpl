{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "edfi-stream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "edfi-stream.fullname" -}}
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

{{- define "edfi-stream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "edfi-stream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "edfi-stream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "edfi-stream.labels" -}}
helm.sh/chart: {{ include "edfi-stream.chart" . }}
{{ include "edfi-stream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: worker
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "edfi-stream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "edfi-stream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the credentials: the existing one, or the chart's. */}}
{{- define "edfi-stream.secretName" -}}
{{- default (include "edfi-stream.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The web port (metrics, health): the configuration's worker.webPort. */}}
{{- define "edfi-stream.webPort" -}}
{{- (((.Values.config).worker).webPort) | default 6066 }}
{{- end }}

{{/* Where the worker keeps its table state (an emptyDir: tables are rebuilt from their changelogs). */}}
{{- define "edfi-stream.dataDir" -}}
{{- (((.Values.config).worker).dataDir) | default "/var/lib/edfi-stream" }}
{{- end }}

{{/* Workers beyond the partitions would sit idle: refuse to render such a release. */}}
{{- define "edfi-stream.validate" -}}
{{- $partitions := int ((((.Values.config).kafka).topicPartitions) | default 4) }}
{{- if gt (int .Values.replicaCount) $partitions }}
{{- fail (printf "replicaCount (%d) must not exceed config.kafka.topicPartitions (%d): a worker beyond the partitions gets no work" (int .Values.replicaCount) $partitions) }}
{{- end }}
{{- end }}
