package buildinfo

import (
	"bytes"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/component-base/version"
)

func TestVersionFlagPrintsProgramName(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--version"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Set("version", "false") })
	var out bytes.Buffer
	code := -1
	PrintAndExitIfRequested(&out, "garden-apiserver", func(c int) { code = c })
	if want := "garden-apiserver " + version.Get().GitVersion + "\n"; out.String() != want || code != 0 {
		t.Errorf("--version printed %q and exited %d, want %q and 0", out.String(), code, want)
	}
}
