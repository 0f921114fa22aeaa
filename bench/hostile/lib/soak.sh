# For bench/hostile/large-replies-soak (sourced, POSIX sh): a test PKI, the
# misbehaving Prometheus, `prescale serve`, RSS and a metric read.
# The caller sets: root (repository), build (build dir), work (a temp dir).

hostile_pids=

hostile_cleanup() {
  for pid in $hostile_pids; do kill "$pid" 2>/dev/null || true; done
  for pid in $hostile_pids; do wait "$pid" 2>/dev/null || true; done
  [ -n "${work:-}" ] && rm -rf "$work"
}

# A CA, a serving certificate for 127.0.0.1 and a client certificate (CN bench).
hostile_certs() {
  ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  openssl req -x509 $ec -days 1 -subj /CN=bench-ca -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$work/server.ext"
  openssl req $ec -subj /CN=prescale -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
  openssl x509 -req -days 1 -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAcreateserial -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$work/client.ext"
  openssl req $ec -subj /CN=bench -keyout "$work/client.key" -out "$work/client.csr" 2>/dev/null
  openssl x509 -req -days 1 -in "$work/client.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAcreateserial -extfile "$work/client.ext" -out "$work/client.crt" 2>/dev/null
}

# hostile_fake_prometheus ARGS...: starts it; sets prometheus_url and prometheus_pid.
hostile_fake_prometheus() {
  rm -f "$work/prometheus.port"
  /usr/bin/python3 "$root/bench/hostile/lib/misbehaving_prometheus.py" --port-file "$work/prometheus.port" \
    --counts "$work/prometheus.counts" "$@" 2>"$work/prometheus.log" &
  prometheus_pid=$!
  hostile_pids="$hostile_pids $prometheus_pid"
  i=0
  while [ ! -s "$work/prometheus.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -s "$work/prometheus.port" ] || { echo "fake Prometheus did not start:"; cat "$work/prometheus.log"; exit 1; }
  prometheus_url="http://127.0.0.1:$(cat "$work/prometheus.port")"
}

# A counter of the fake Prometheus (requests, hung, hanging, answered, bytes).
hostile_count() {
  /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" \
    "$work/prometheus.counts" "$1" 2>/dev/null || echo 0
}

# A free 127.0.0.1 port.
hostile_free_port() {
  /usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"
}

# The server section of a config listening on $port with the bench PKI.
hostile_server_yaml() {
  cat <<YAML
server:
  address: 127.0.0.1:$port
  tlsCertFile: $work/server.crt
  tlsKeyFile: $work/server.key
  clientCAFile: $work/ca.crt
  authorization: {mode: always-allow}
YAML
}

# hostile_serve CONFIG [ARGS...]: starts `prescale serve`; sets serve_pid.
hostile_serve() {
  config=$1
  shift
  "$build/prescale-server" serve --config "$config" --log-format json "$@" >"$work/serve.log" 2>&1 &
  serve_pid=$!
  hostile_pids="$hostile_pids $serve_pid"
  i=0
  while ! curl -s -o /dev/null --cacert "$work/ca.crt" "https://127.0.0.1:$port/healthz" && [ $i -lt 300 ]; do
    kill -0 "$serve_pid" 2>/dev/null || { echo "prescale serve exited:"; tail -20 "$work/serve.log"; exit 1; }
    sleep 0.1
    i=$((i + 1))
  done
}

# Resident set size of a process, in MB.
hostile_rss_mb() {
  awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# Seconds since the served metric's timestamp (its tick), or -1 when not served.
hostile_metric_age() {
  curl -s --max-time 5 --cacert "$work/ca.crt" --cert "$work/client.crt" --key "$work/client.key" \
    "https://127.0.0.1:$port/apis/external.metrics.k8s.io/v1beta1/namespaces/default/$1" |
    /usr/bin/python3 -c '
import calendar, json, sys, time
try:
    item = json.load(sys.stdin)["items"][0]
    t = calendar.timegm(time.strptime(item["timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
    print(int(time.time() - t))
except Exception:
    print(-1)'
}

hostile_now() { date +%s.%N; }
hostile_since() { awk "BEGIN { printf \"%.2f\", $(hostile_now) - $1 }"; }
