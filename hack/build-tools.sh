#!/usr/bin/env bash
# Builds test-only binaries (etcd, kube-apiserver, kube-controller-manager) from the separate Go module
# in hack/tools into _output/tools/bin/. A binary is rebuilt only when it is
# missing or older than hack/tools/go.mod, go.sum, its cmd/<name>/main.go or
# this script. `build-tools.sh golangci-lint` builds only the linter, from its
# own module in hack/tools/lint (apart so it never moves kube-apiserver's
# dependency versions, and `make verify` does not compile kube-apiserver).
# go.mod/go.sum are committed tidy; -mod=readonly guarantees they are never rewritten.
set -euo pipefail

SCRIPT="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS_DIR="${ROOT}/hack/tools"
BIN_DIR="${ROOT}/_output/tools/bin"

mkdir -p "${BIN_DIR}"

is_fresh() {
  local bin="$1"; shift
  [[ -x "${bin}" ]] || return 1
  local dep
  for dep in "$@"; do
    [[ "${bin}" -nt "${dep}" ]] || return 1
  done
}

build() {
  local name="$1"; shift
  local out="${BIN_DIR}/${name}"
  local main="${TOOLS_DIR}/cmd/${name}/main.go"
  if is_fresh "${out}" "${TOOLS_DIR}/go.mod" "${TOOLS_DIR}/go.sum" "${main}" "${SCRIPT}"; then
    echo "${name}: cached"
    return
  fi
  local start=${SECONDS}
  (cd "${TOOLS_DIR}" && go build -mod=readonly -trimpath -buildvcs=false "$@" -o "${out}.tmp" "./cmd/${name}" </dev/null)
  mv -f "${out}.tmp" "${out}"
  echo "${name}: built in $((SECONDS - start))s"
}

if [[ "${1:-}" == golangci-lint ]]; then
  LINT_DIR="${TOOLS_DIR}/lint"
  out="${BIN_DIR}/golangci-lint"
  if is_fresh "${out}" "${LINT_DIR}/go.mod" "${LINT_DIR}/go.sum" "${SCRIPT}"; then
    echo "golangci-lint: cached"
    exit 0
  fi
  start=${SECONDS}
  (cd "${LINT_DIR}" && go build -mod=readonly -trimpath -buildvcs=false -o "${out}.tmp" \
    github.com/golangci/golangci-lint/v2/cmd/golangci-lint </dev/null)
  mv -f "${out}.tmp" "${out}"
  echo "golangci-lint: built in $((SECONDS - start))s"
  exit 0
fi

build etcd

# Stamp the kube-apiserver version like upstream's hack/lib/version.sh does;
# otherwise --version reports v0.0.0-master.
KUBE_VERSION="$(cd "${TOOLS_DIR}" && go list -mod=readonly -m -f '{{.Version}}' k8s.io/kubernetes)"
KUBE_MAJOR="${KUBE_VERSION#v}"; KUBE_MAJOR="${KUBE_MAJOR%%.*}"
KUBE_MINOR="${KUBE_VERSION#v*.}"; KUBE_MINOR="${KUBE_MINOR%%.*}"
KUBE_LDFLAGS=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KUBE_LDFLAGS+=" -X ${pkg}.gitVersion=${KUBE_VERSION}"
  KUBE_LDFLAGS+=" -X ${pkg}.gitMajor=${KUBE_MAJOR} -X ${pkg}.gitMinor=${KUBE_MINOR}"
  KUBE_LDFLAGS+=" -X ${pkg}.gitTreeState=clean"
done
build kube-apiserver -ldflags="${KUBE_LDFLAGS# }"
# Same module and flags: it reuses the build cache of kube-apiserver's packages.
build kube-controller-manager -ldflags="${KUBE_LDFLAGS# }"
