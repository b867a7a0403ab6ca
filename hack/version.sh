#!/usr/bin/env bash
# Prints the -ldflags -X arguments that stamp the build's version into pkg/buildinfo, with the
# variables and rules of Kubernetes' hack/lib/version.sh (not into k8s.io/component-base/version:
# pkg/buildinfo says why). Used by `make build`, `make plugin` and `make image`.
# `hack/version.sh version` or `hack/version.sh commit` prints just that value (image labels).
# Overrides: VERSION (e.g. v0.1.0), GIT_COMMIT, GIT_TREE_STATE, SOURCE_DATE_EPOCH (build date).
set -euo pipefail
cd "$(dirname "$0")/.."

commit="${GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}"
state="${GIT_TREE_STATE:-}"
if [[ -z "${state}" && -n "${commit}" ]]; then
  if [[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then state=clean; else state=dirty; fi
fi

version="${VERSION:-}"
if [[ -z "${version}" ]]; then
  if described="$(git describe --tags --match='v*' --abbrev=14 HEAD 2>/dev/null)"; then
    # v1.2.3-4-g<hash> (4 commits after the tag) becomes v1.2.3-4+<hash>, as in Kubernetes.
    version="$(sed -E 's/-g([0-9a-f]{14})$/+\1/' <<<"${described}")"
  elif [[ -n "${commit}" ]]; then
    version="v0.0.0-master+${commit:0:14}"
  else
    version="v0.0.0-master"
  fi
  if [[ "${state}" == dirty ]]; then version+="-dirty"; fi
fi

major="" minor=""
if [[ "${version}" =~ ^v([0-9]+)\.([0-9]+)(\.[0-9]+)?([-+].*)?$ ]]; then
  major="${BASH_REMATCH[1]}"
  minor="${BASH_REMATCH[2]}"
  # Not exactly a release: "1+" as Kubernetes reports it.
  if [[ -n "${BASH_REMATCH[4]}" ]]; then minor+="+"; fi
fi

date_flag=(-u)
if [[ -n "${SOURCE_DATE_EPOCH:-}" ]]; then date_flag+=(-d "@${SOURCE_DATE_EPOCH}"); fi
build_date="$(date "${date_flag[@]}" +%Y-%m-%dT%H:%M:%SZ)"

case "${1:-ldflags}" in
  version) echo "${version}"; exit 0 ;;
  commit) echo "${commit}"; exit 0 ;;
esac

flags=()
for pkg in github.com/garden-apiserver/garden-apiserver/pkg/buildinfo; do  # as Kubernetes loops over its version packages
  flags+=("-X ${pkg}.gitVersion=${version}" "-X ${pkg}.gitCommit=${commit}" "-X ${pkg}.gitTreeState=${state}"
    "-X ${pkg}.buildDate=${build_date}" "-X ${pkg}.gitMajor=${major}" "-X ${pkg}.gitMinor=${minor}")
done
echo "${flags[*]}"
