// Package buildinfo serves --version for the project's commands: the version stamped into
// k8s.io/component-base/version at build time (hack/version.sh), under the program's own name.
package buildinfo

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"
	"k8s.io/component-base/version"
	"k8s.io/component-base/version/verflag"
)

// AddFlags registers --version (verflag's flag, shared with pflag.CommandLine).
func AddFlags(fs *pflag.FlagSet) {
	verflag.AddFlags(fs)
}

// PrintAndExitIfRequested handles --version, printing "<program> <gitVersion>" (verflag alone
// would say "Kubernetes"), and --version=raw through verflag. It exits when either was given.
func PrintAndExitIfRequested(out io.Writer, program string, exit func(int)) {
	if f := pflag.CommandLine.Lookup("version"); f != nil && f.Value.String() == "true" {
		fmt.Fprintf(out, "%s %s\n", program, version.Get())
		exit(0)
		return
	}
	verflag.PrintAndExitIfRequested()
}
