#!/usr/bin/env bash
# Checks the rule files of artifacts/monitoring with promtool and runs their unit tests
# (test/monitoring). A few seconds of CPU; installs promtool first when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/install-prometheus.sh
promtool check rules artifacts/monitoring/recording-rules.yaml artifacts/monitoring/alerting-rules.yaml
promtool test rules test/monitoring/alerts_test.yaml
