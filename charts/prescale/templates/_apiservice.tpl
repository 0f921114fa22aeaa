{{/*
The APIService that makes the kube-apiserver's aggregator proxy
external.metrics.k8s.io to us. Rendered from tls.yaml because the caBundle
comes from the certificate generated there.
Arguments: root (the chart context), caBundle (base64 PEM or ""), injectFrom
(cert-manager Certificate namespace/name, optional).
*/}}
{{- define "prescale.apiservice" -}}
{{- $root := .root -}}
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.external.metrics.k8s.io
  labels:
    {{- include "prescale.labels" $root | nindent 4 }}
  {{- if .injectFrom }}
  annotations:
    cert-manager.io/inject-ca-from: {{ .injectFrom }}
  {{- end }}
spec:
  group: external.metrics.k8s.io
  version: v1beta1
  service:
    name: {{ include "prescale.fullname" $root }}
    namespace: {{ $root.Release.Namespace }}
    port: {{ $root.Values.service.port }}
  groupPriorityMinimum: {{ $root.Values.apiService.groupPriorityMinimum }}
  versionPriority: {{ $root.Values.apiService.versionPriority }}
  {{- if $root.Values.apiService.insecureSkipTLSVerify }}
  insecureSkipTLSVerify: true
  {{- else if .caBundle }}
  caBundle: {{ .caBundle }}
  {{- end }}
{{- end -}}
