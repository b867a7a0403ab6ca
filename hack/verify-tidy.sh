#!/usr/bin/env bash
# Fails when `go mod tidy` would change go.mod or go.sum of any module in the repository
# (the server, the tools module for kube-apiserver and etcd, the linter module, the Gardener
# compatibility suite, the robustness suite).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
status=0
for dir in . hack/tools hack/tools/lint test/compat test/robustness; do
  # -diff prints what tidy would change and exits non-zero, touching nothing.
  if ! (cd "${ROOT}/${dir}" && go mod tidy -diff); then
    echo "${dir}/go.mod is not tidy: run \`go mod tidy\` in ${dir} and commit the result." >&2
    status=1
  fi
done
[[ ${status} -eq 0 ]] && echo "go.mod files are tidy."
exit ${status}
