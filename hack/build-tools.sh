#!/usr/bin/env bash
# Builds test-only binaries (etcd, kube-apiserver) from the separate Go module
# in hack/tools into _output/tools/bin/. A binary is rebuilt only when it is
# missing or older than hack/tools/go.mod, go.sum or its cmd/<name>/main.go.
# go.mod/go.sum are committed tidy; -mod=readonly guarantees they are never rewritten.
set -euo pipefail

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
  local name="$1"
  local out="${BIN_DIR}/${name}"
  local main="${TOOLS_DIR}/cmd/${name}/main.go"
  if is_fresh "${out}" "${TOOLS_DIR}/go.mod" "${TOOLS_DIR}/go.sum" "${main}"; then
    echo "${name}: cached"
    return
  fi
  local start=${SECONDS}
  (cd "${TOOLS_DIR}" && go build -mod=readonly -trimpath -buildvcs=false -o "${out}.tmp" "./cmd/${name}" </dev/null)
  mv -f "${out}.tmp" "${out}"
  echo "${name}: built in $((SECONDS - start))s"
}

build etcd
build kube-apiserver
