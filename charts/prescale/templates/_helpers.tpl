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

{{/* The ConfigMap holding config.yaml: the chart's, or config.existingConfigMap. */}}
{{- define "prescale.configMapName" -}}
{{- default (include "prescale.fullname" .) .Values.existingConfigMap -}}
{{- end -}}

{{/* Where the pod sees the serving certificate, key and CA. */}}
{{- define "prescale.tlsDir" -}}/etc/prescale/tls{{- end -}}

{{/*
The daemon's config: the user's, with the server keys the chart owns (listen
addresses, certificate paths, request-header trust from the cluster). In
server.keda the chart sets enabled, address, certFile and keyFile, and
clientCAFile only for keda.mutualTLS: any other key the user wrote there
(clientCAFile of their own CA, for instance) is kept.
*/}}
{{- define "prescale.config" -}}
{{- $selfService := and .Values.keda.enabled .Values.keda.selfService.enabled -}}
{{- if and .Values.keda.selfService.enabled (not .Values.keda.enabled) -}}
{{- fail "keda.selfService.enabled: targets from triggers come through the KEDA scaler; set keda.enabled too" -}}
{{- end -}}
{{- if and (not .Values.config.targets) (not $selfService) -}}
{{- fail "config.targets: add at least one target (the daemon refuses a config without targets; see config/example.yaml), or let KEDA triggers carry them (keda.selfService.enabled)" -}}
{{- end -}}
{{- $tlsDir := include "prescale.tlsDir" . -}}
{{- $config := deepCopy .Values.config -}}
{{- $server := default (dict) $config.server -}}
{{- $_ := set $server "address" (printf "0.0.0.0:%d" (int .Values.containerPort)) -}}
{{- $_ := set $server "probeAddress" (printf "0.0.0.0:%d" (int .Values.probePort)) -}}
{{- $_ := set $server "tlsCertFile" (printf "%s/tls.crt" $tlsDir) -}}
{{- $_ := set $server "tlsKeyFile" (printf "%s/tls.key" $tlsDir) -}}
{{- $_ := set $server "requestHeader" (dict "fromCluster" true) -}}
{{- if .Values.keda.enabled -}}
{{- $keda := default (dict) $server.keda -}}
{{- $_ := set $keda "enabled" true -}}
{{- $_ := set $keda "address" (printf "0.0.0.0:%d" (int .Values.keda.port)) -}}
{{- $_ := set $keda "certFile" (printf "%s/tls.crt" $tlsDir) -}}
{{- $_ := set $keda "keyFile" (printf "%s/tls.key" $tlsDir) -}}
{{- if .Values.keda.mutualTLS -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- $_ := required "keda.mutualTLS with tls.mode secret: set config.server.keda.clientCAFile to the CA that signs KEDA's client certificate (mounted with extraVolumes)" $keda.clientCAFile -}}
{{- else if not $keda.clientCAFile -}}
{{- $_ := set $keda "clientCAFile" (printf "%s/ca.crt" $tlsDir) -}}
{{- end -}}
{{- end -}}
{{- if $selfService -}}
{{- $s := .Values.keda.selfService -}}
{{- $_ := set $keda "selfService" (dict "enabled" true "idleTimeout" $s.idleTimeout "maxPerNamespace" (int $s.maxPerNamespace) "maxTargets" (int $s.maxTargets) "namespaces" $s.namespaces) -}}
{{- end -}}
{{- $_ := set $server "keda" $keda -}}
{{- end -}}
{{- $_ := set $config "server" $server -}}
{{- $_ := set .Values "_prescaleRestartPart" (dict "server" $server "decisions" (default (dict) $config.decisions)) -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
The checksum that rolls the pods on a config change: only the sections the
daemon reads at start-up (server: listeners, certificates, authentication;
decisions: the record log). Targets, prometheus and calendars are reloaded
by the running daemon from the mounted ConfigMap (it watches the file), so
editing them restarts nothing: no pod re-reads its history or refits.
*/}}
{{- define "prescale.configRestartChecksum" -}}
{{- $_ := include "prescale.config" . -}}
{{- toYaml .Values._prescaleRestartPart | sha256sum -}}
{{- end -}}

{{/*
Self-signed TLS material for tls.mode selfSigned, made once per render and
kept on .Values._prescaleTLS so every template of the render (Secrets,
APIService caBundle, the Deployment's checksum, KEDA's TriggerAuthentication)
sees the same certificates.

Across upgrades the CA and the serving certificate found in the cluster
(through lookup: <fullname>-ca and <fullname>-tls) are reused, so an upgrade
changes neither the caBundle nor the certificate the pods serve. They are
replaced only:
  - the serving certificate: within tls.renewBeforeDays of its expiry, when
    the Service's DNS names changed, or with tls.rotate=certificate (signed
    by the same CA, so the caBundle does not change);
  - the CA: within tls.renewBeforeDays of its expiry, when its Secret is
    missing or incomplete, or with tls.rotate=ca. The previous CA stays in
    the bundle (ca.crt, caBundle) next to the new one, so the aggregator and
    KEDA trust both the pods still serving the old certificate and those that
    picked up the new one.
Expiry times are kept as annotations (prescale.dev/not-after, RFC 3339):
templates cannot parse certificates.
*/}}
{{- define "prescale.selfSignedTLS" -}}
{{- if not (hasKey .Values "_prescaleTLS") -}}
{{- $fullname := include "prescale.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $layout := "2006-01-02T15:04:05Z07:00" -}}
{{- $now := (now).Unix -}}
{{- $renewBefore := mul (int .Values.tls.renewBeforeDays) 86400 -}}
{{- $rotate := .Values.tls.rotate -}}
{{- $dnsNames := list $fullname (printf "%s.%s" $fullname $ns) (printf "%s.%s.svc" $fullname $ns) (printf "%s.%s.svc.cluster.local" $fullname $ns) -}}
{{- $caSecret := lookup "v1" "Secret" $ns (printf "%s-ca" $fullname) -}}
{{- $tlsSecret := lookup "v1" "Secret" $ns (printf "%s-tls" $fullname) -}}
{{- $oldBundle := b64dec (dig "data" "ca.crt" "" $caSecret) -}}
{{- $oldCAKey := b64dec (dig "data" "ca.key" "" $caSecret) -}}
{{- $oldCANotAfter := dig "metadata" "annotations" "prescale.dev/not-after" "" $caSecret -}}
{{- $oldCACert := regexFind "(?s)-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----" $oldBundle -}}
{{- $caValid := and $oldCACert $oldCAKey $oldCANotAfter -}}
{{- if $caValid -}}
{{- $caValid = gt (sub (toDate $layout $oldCANotAfter).Unix $now) $renewBefore -}}
{{- end -}}
{{- $ca := dict -}}
{{- $bundle := "" -}}
{{- $caNotAfter := "" -}}
{{- $caReused := false -}}
{{- if and $caValid (ne $rotate "ca") -}}
{{- $ca = buildCustomCert (b64enc (printf "%s\n" $oldCACert)) (b64enc $oldCAKey) -}}
{{- $bundle = $oldBundle -}}
{{- $caNotAfter = $oldCANotAfter -}}
{{- $caReused = true -}}
{{- else -}}
{{- $ca = genCA (printf "%s-ca" $fullname) (int .Values.tls.caValidityDays) -}}
{{- $caNotAfter = dateInZone $layout (dateModify (printf "+%dh" (mul (int .Values.tls.caValidityDays) 24)) now) "UTC" -}}
{{- $bundle = $ca.Cert -}}
{{- if and $oldCACert $oldCANotAfter -}}
{{- if gt (toDate $layout $oldCANotAfter).Unix $now -}}
{{- $bundle = printf "%s%s\n" $ca.Cert $oldCACert -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $oldCert := b64dec (dig "data" "tls.crt" "" $tlsSecret) -}}
{{- $oldKey := b64dec (dig "data" "tls.key" "" $tlsSecret) -}}
{{- $oldNotAfter := dig "metadata" "annotations" "prescale.dev/not-after" "" $tlsSecret -}}
{{- $oldNames := dig "metadata" "annotations" "prescale.dev/dns-names" "" $tlsSecret -}}
{{- $certValid := and $caReused $oldCert $oldKey $oldNotAfter (eq $oldNames (join "," $dnsNames)) (ne $rotate "certificate") -}}
{{- if $certValid -}}
{{- $certValid = gt (sub (toDate $layout $oldNotAfter).Unix $now) $renewBefore -}}
{{- end -}}
{{- $cert := dict -}}
{{- $certNotAfter := "" -}}
{{- if $certValid -}}
{{- $cert = dict "Cert" $oldCert "Key" $oldKey -}}
{{- $certNotAfter = $oldNotAfter -}}
{{- else -}}
{{- $cert = genSignedCert (printf "%s.%s.svc" $fullname $ns) nil $dnsNames (int .Values.tls.validityDays) $ca -}}
{{- $certNotAfter = dateInZone $layout (dateModify (printf "+%dh" (mul (int .Values.tls.validityDays) 24)) now) "UTC" -}}
{{- end -}}
{{- $material := dict "ca" $ca "bundle" $bundle "caNotAfter" $caNotAfter "cert" $cert "certNotAfter" $certNotAfter "dnsNames" (join "," $dnsNames) -}}
{{- if and .Values.keda.enabled .Values.keda.mutualTLS -}}
{{- $kedaSecret := lookup "v1" "Secret" (include "prescale.kedaAuthNamespace" .) (include "prescale.kedaAuthSecretName" .) -}}
{{- $oldClientCert := b64dec (dig "data" "tlsClientCert" "" $kedaSecret) -}}
{{- $oldClientKey := b64dec (dig "data" "tlsClientKey" "" $kedaSecret) -}}
{{- $oldClientNotAfter := dig "metadata" "annotations" "prescale.dev/not-after" "" $kedaSecret -}}
{{- $clientValid := and $caReused $oldClientCert $oldClientKey $oldClientNotAfter (ne $rotate "certificate") -}}
{{- if $clientValid -}}
{{- $clientValid = gt (sub (toDate $layout $oldClientNotAfter).Unix $now) $renewBefore -}}
{{- end -}}
{{- if $clientValid -}}
{{- $_ := set $material "kedaClient" (dict "Cert" $oldClientCert "Key" $oldClientKey) -}}
{{- $_ := set $material "kedaClientNotAfter" $oldClientNotAfter -}}
{{- else -}}
{{- $_ := set $material "kedaClient" (genSignedCert "keda-operator" nil nil (int .Values.tls.validityDays) $ca) -}}
{{- $_ := set $material "kedaClientNotAfter" (dateInZone $layout (dateModify (printf "+%dh" (mul (int .Values.tls.validityDays) 24)) now) "UTC") -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Values "_prescaleTLS" $material -}}
{{- end -}}
{{- end -}}

{{/* KEDA's trigger authentication: its Secret's name, and the namespace of the cluster-wide one. */}}
{{- define "prescale.kedaAuthSecretName" -}}
{{- default (printf "%s-keda-auth" (include "prescale.fullname" .)) .Values.keda.triggerAuthentication.existingSecret -}}
{{- end -}}
{{- define "prescale.kedaAuthNamespace" -}}
{{- if eq .Values.keda.triggerAuthentication.kind "ClusterTriggerAuthentication" -}}
{{- .Values.keda.namespace -}}
{{- else -}}
{{- first (default (list "") .Values.keda.triggerAuthentication.namespaces) -}}
{{- end -}}
{{- end -}}

{{/*
What the pods must see and cannot pick up while running: a change rolls
them. The serving certificate is reloaded by the daemon when its files
change, but the kubelet refreshes mounted Secrets only every minute or so;
rolling on a rotation makes every pod serve the new certificate at once
(the caBundle trusts old and new meanwhile). The config's checksum is the
chart's other roll trigger (see the Deployment).
*/}}
{{- define "prescale.tlsChecksum" -}}
{{- if eq .Values.tls.mode "selfSigned" -}}
{{- include "prescale.selfSignedTLS" . -}}
{{- $m := .Values._prescaleTLS -}}
{{- printf "%s%s%s" $m.bundle $m.cert.Cert $m.cert.Key | sha256sum -}}
{{- end -}}
{{- end -}}
