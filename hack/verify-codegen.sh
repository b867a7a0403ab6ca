#!/usr/bin/env bash
# Fails when generated code differs from what hack/update-codegen.sh produces.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

# Regenerate in a copy of the tree so a failed verify never touches the work tree.
mkdir -p "${tmp}/src"
(cd "${ROOT}" && tar --exclude=./_output --exclude=./.git -cf - .) | (cd "${tmp}/src" && tar -xf -)
(cd "${tmp}/src" && ./hack/update-codegen.sh >/dev/null)

status=0
for dir in pkg hack/api-violations.list; do
  if ! diff -Naupr "${ROOT}/${dir}" "${tmp}/src/${dir}"; then status=1; fi
done
if [[ ${status} -ne 0 ]]; then
  echo "Generated code is out of date: run hack/update-codegen.sh (make generate) and commit the result." >&2
  exit 1
fi
echo "Generated code is up to date."
