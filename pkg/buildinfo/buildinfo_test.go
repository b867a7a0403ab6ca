package buildinfo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestVersionFlag(t *testing.T) {
	for _, c := range []struct{ arg, want string }{
		{"--version", "garden-apiserver " + gitVersion + "\n"},
		{"--version=raw", "version.Info{Major:"},
	} {
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		AddFlags(fs)
		if err := fs.Parse([]string{c.arg}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		code := -1
		PrintAndExitIfRequested(&out, "garden-apiserver", func(c int) { code = c })
		_ = fs.Set("version", "false")
		if !strings.HasPrefix(out.String(), c.want) || code != 0 {
			t.Errorf("%s printed %q and exited %d, want %q... and 0", c.arg, out.String(), code, c.want)
		}
	}
	var out bytes.Buffer
	PrintAndExitIfRequested(&out, "garden-apiserver", func(int) { t.Error("exited without --version") })
	if out.Len() != 0 {
		t.Errorf("printed %q without --version", out.String())
	}
}
