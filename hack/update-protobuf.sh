#!/usr/bin/env bash
# Regenerates generated.proto and generated.pb.go of the external API versions with
# k8s.io/code-generator's go-to-protobuf (called by hack/update-codegen.sh). Needs protoc;
# field numbers already assigned (the protobuf:"..." struct tags) are kept.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
PKG=github.com/garden-apiserver/garden-apiserver
PACKAGES=(
  "${PKG}/pkg/apis/core/v1beta1"
  "${PKG}/pkg/apis/authentication/v1alpha1"
)
# Packages whose types ours reference. The leading "-" means "read, never generate": without
# it go-to-protobuf rewrites these packages in place, inside the module cache.
APIMACHINERY_PACKAGES=(
  -k8s.io/apimachinery/pkg/util/intstr
  -k8s.io/apimachinery/pkg/api/resource
  -k8s.io/apimachinery/pkg/runtime/schema
  -k8s.io/apimachinery/pkg/runtime
  -k8s.io/apimachinery/pkg/apis/meta/v1
  -k8s.io/api/core/v1
)

if ! command -v protoc >/dev/null 2>&1; then
  cat >&2 <<'EOF'
protoc (the Protocol Buffers compiler) is needed to generate the protobuf code but was not found.
On Debian or Ubuntu install it with:
    apt-get update && apt-get install -y protobuf-compiler libprotobuf-dev
EOF
  exit 1
fi

join() { local IFS=,; echo "$*"; }

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

# The generators, built inside code-generator's own module so its go.sum pins them; goimports
# (which go-to-protobuf calls) at the golang.org/x/tools version of our go.mod.
go mod download k8s.io/code-generator k8s.io/apimachinery k8s.io/api
CODEGEN_PKG=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
(cd "${CODEGEN_PKG}" && go build -o "${work}/bin/" ./cmd/go-to-protobuf ./cmd/go-to-protobuf/protoc-gen-gogo)
(cd "${CODEGEN_PKG}" && go mod download github.com/gogo/protobuf)
GOGO_DIR=$(cd "${CODEGEN_PKG}" && go list -m -f '{{.Dir}}' github.com/gogo/protobuf)
GOBIN="${work}/bin" go install "golang.org/x/tools/cmd/goimports@$(go list -m -f '{{.Version}}' golang.org/x/tools)"

# go-to-protobuf reads and writes .proto files by import path under one root (a GOPATH-like
# tree): this module, apimachinery, api and gogo (for gogo.proto) are linked in there.
src="${work}/src"
link() { mkdir -p "$(dirname "${src}/$1")" && ln -s "$2" "${src}/$1"; }
link "${PKG}" "${ROOT}"
link k8s.io/apimachinery "$(go list -m -f '{{.Dir}}' k8s.io/apimachinery)"
link k8s.io/api "$(go list -m -f '{{.Dir}}' k8s.io/api)"
link github.com/gogo/protobuf "${GOGO_DIR}"

PATH="${work}/bin:${PATH}" go-to-protobuf \
  --go-header-file "${ROOT}/hack/boilerplate.go.txt" \
  --output-dir "${src}" \
  --proto-import "${src}" \
  --proto-import "${GOGO_DIR}/protobuf" \
  --apimachinery-packages "$(join "${APIMACHINERY_PACKAGES[@]}")" \
  --packages "$(join "${PACKAGES[@]}")"
