//go:build tools

// Package hack pins build-time tools in go.mod.
package hack

import _ "k8s.io/code-generator"
