{{/* Names and labels shared by every template. */}}
{{- define "prescale.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prescale.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "prescale.selectorLabels" -}}
app.kubernetes.io/name: {{ include "prescale.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "prescale.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "prescale.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "prescale.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "prescale.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image reference: a digest pins it; the tag defaults to appVersion. */}}
{{- define "prescale.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag: 'latest' is not allowed; pin a version or a digest" -}}
{{- end -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "prescale.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- required "tls.existingSecret is required when tls.mode is secret" .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "prescale.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The daemon's config: the user's, with the server section the chart owns. */}}
{{- define "prescale.config" -}}
{{- if not .Values.config.targets -}}
{{- fail "config.targets: add at least one target (the daemon refuses a config without targets; see config/example.yaml)" -}}
{{- end -}}
{{- $config := deepCopy .Values.config -}}
{{- $server := default (dict) $config.server -}}
{{- $_ := set $server "address" (printf "0.0.0.0:%d" (int .Values.containerPort)) -}}
{{- $_ := set $server "tlsCertFile" "/etc/prescale/tls/tls.crt" -}}
{{- $_ := set $server "tlsKeyFile" "/etc/prescale/tls/tls.key" -}}
{{- $_ := set $server "requestHeader" (dict "fromCluster" true) -}}
{{- if .Values.keda.enabled -}}
{{- $_ := set $server "keda" (dict "enabled" true "address" (printf "0.0.0.0:%d" (int .Values.keda.port)) "certFile" "/etc/prescale/tls/tls.crt" "keyFile" "/etc/prescale/tls/tls.key") -}}
{{- end -}}
{{- $_ := set $config "server" $server -}}
{{- toYaml $config -}}
{{- end -}}
