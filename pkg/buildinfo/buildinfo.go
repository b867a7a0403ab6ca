// Package buildinfo is the version of the project's commands, stamped at build time by
// hack/version.sh with -ldflags -X, and their --version flag.
//
// The stamp is not written into k8s.io/component-base/version as Kubernetes' own binaries do:
// k8s.io/apiserver reads that as the Kubernetes version whose APIs, feature gates and CEL
// library the server emulates, and refuses to start with a project version such as v0.1.0
// ("emulation version 0.1 is not between [1.31, 0.1]").
package buildinfo

import (
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/pflag"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/component-base/version/verflag"
)

// Set by hack/version.sh; the defaults are those of an unstamped Kubernetes build.
var (
	gitMajor     string
	gitMinor     string
	gitVersion   = "v0.0.0-master+$Format:%H$"
	gitCommit    = ""
	gitTreeState = ""
	buildDate    = "1970-01-01T00:00:00Z"
)

// Get returns the stamped version, in the shape of /version.
func Get() apimachineryversion.Info {
	return apimachineryversion.Info{
		Major:        gitMajor,
		Minor:        gitMinor,
		GitVersion:   gitVersion,
		GitCommit:    gitCommit,
		GitTreeState: gitTreeState,
		BuildDate:    buildDate,
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// AddFlags registers --version (verflag's flag, as in Kubernetes' commands).
func AddFlags(fs *pflag.FlagSet) {
	verflag.AddFlags(fs)
}

// PrintAndExitIfRequested prints "<program> <version>" for --version and the whole Info for
// --version=raw, then exits.
func PrintAndExitIfRequested(out io.Writer, program string, exit func(int)) {
	f := pflag.CommandLine.Lookup("version")
	if f == nil {
		return
	}
	switch f.Value.String() {
	case "true":
		fmt.Fprintf(out, "%s %s\n", program, gitVersion)
		exit(0)
	case "raw":
		fmt.Fprintf(out, "%#v\n", Get())
		exit(0)
	}
}
