{{/* Names, labels and derived settings shared by every template. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "vpcroute-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object name: fullnameOverride, or the release name plus the chart
name unless the release name already contains it. */}}
{{- define "vpcroute-operator.fullname" -}}
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

{{/* chart-version label value. */}}
{{- define "vpcroute-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "vpcroute-operator.labels" -}}
helm.sh/chart: {{ include "vpcroute-operator.chart" . }}
{{ include "vpcroute-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the operator's Pods. */}}
{{- define "vpcroute-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vpcroute-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "vpcroute-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vpcroute-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The default-credentials Secret's name, or empty when there are no default credentials. */}}
{{- define "vpcroute-operator.credentialsSecret" -}}
{{- if and .Values.credentials.create .Values.credentials.existingSecret }}
{{- fail "set either credentials.create or credentials.existingSecret, not both" }}
{{- end }}
{{- if .Values.credentials.create }}
{{- printf "%s-credentials" (include "vpcroute-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else if .Values.credentials.existingSecret }}
{{- .Values.credentials.existingSecret }}
{{- end }}
{{- end }}

{{/* "true" when leader election is on: asked for, or implied by more than one replica. */}}
{{- define "vpcroute-operator.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/* The leader Lease's name. */}}
{{- define "vpcroute-operator.leaseName" -}}
{{- default (include "vpcroute-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* Where the extra CA bundle is mounted. */}}
{{- define "vpcroute-operator.caDir" -}}
/etc/vpcroute-operator/ca
{{- end }}

{{/*
The API generation as the operator spells it. `--set cloud.api=3.0` arrives as the number 3,
so numbers are printed with one decimal.
*/}}
{{- define "vpcroute-operator.api" -}}
{{- if kindIs "string" .Values.cloud.api -}}
{{- .Values.cloud.api -}}
{{- else -}}
{{- printf "%.1f" (float64 .Values.cloud.api) -}}
{{- end -}}
{{- end }}
