#!/usr/bin/env bash
# Regenerates everything under pkg/generated and the zz_generated and protobuf files in pkg/apis.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
PKG=github.com/garden-apiserver/garden-apiserver
# On a fresh machine the module is not in the cache yet and .Dir would be empty.
go mod download k8s.io/code-generator
CODEGEN_PKG=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"
# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"

# Protobuf first: it adds protobuf struct tags to the types files the other generators read.
"${ROOT}/hack/update-protobuf.sh"

kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" "${ROOT}/pkg/apis"
# Configuration kinds of admission plugins (AdmissionConfiguration entries).
kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" "${ROOT}/pkg/admission"

report="${ROOT}/hack/api-violations.list"
kube::codegen::gen_openapi \
    --output-dir "${ROOT}/pkg/generated/openapi" \
    --output-pkg "${PKG}/pkg/generated/openapi" \
    --output-model-name-file "zz_generated.model_name.go" \
    --report-filename "${report}" --update-report \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"

schema=$(mktemp)
trap 'rm -f "${schema}"' EXIT
go run ./hack/models-schema > "${schema}"

kube::codegen::gen_client \
    --with-watch \
    --prefers-protobuf \
    --with-applyconfig \
    --applyconfig-openapi-schema "${schema}" \
    --output-dir "${ROOT}/pkg/generated" \
    --output-pkg "${PKG}/pkg/generated" \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"
