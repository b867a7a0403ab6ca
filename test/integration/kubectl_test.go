package integration

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// repoRoot is where artifacts/ lives.
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestKubectl drives the installed kubectl binary against the standalone server.
func TestKubectl(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl is required on PATH: %v", err)
	}
	s := framework.Start(t, "")
	examples := filepath.Join(repoRoot(t), "artifacts", "examples")
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("kubectl", append([]string{"--kubeconfig", s.Kubeconfig}, args...)...).CombinedOutput()
		require.NoError(t, err, "kubectl %v: %s", args, out)
		return string(out)
	}

	kubectl("create", "-f", filepath.Join(examples, "internalsecret.yaml"))
	out := kubectl("get", "internalsecrets", "-n", "garden-dev")
	header := strings.Fields(strings.SplitN(out, "\n", 2)[0])
	assert.Equal(t, []string{"NAME", "TYPE", "DATA", "AGE"}, header)
	assert.Regexp(t, `example\s+Opaque\s+1\s+`, out)

	// Short name, categories and -o yaml: data is there, stringData is not.
	assert.Contains(t, kubectl("get", "ins", "-A"), "example")
	assert.Contains(t, kubectl("get", "gardener", "-A"), "internalsecret.core.gardener.cloud/example")
	yaml := kubectl("get", "ins", "example", "-n", "garden-dev", "-o", "yaml")
	assert.Contains(t, yaml, "token: bm90LWZvci1lbmQtdXNlcnM=")
	assert.NotContains(t, yaml, "stringData")

	explain := kubectl("explain", "internalsecrets.data")
	assert.Contains(t, explain, "KIND:       InternalSecret")
	assert.Contains(t, explain, "FIELD: data")
	assert.Contains(t, kubectl("explain", "shoots.spec.kubernetes"), "version")

	// Server-side apply, twice (idempotent), then a change.
	kubectl("apply", "--server-side", "-f", filepath.Join(examples, "shoot.yaml"))
	assert.Contains(t, kubectl("apply", "--server-side", "-f", filepath.Join(examples, "shoot.yaml")), "serverside-applied")
	kubectl("patch", "shoot", "my-shoot", "-n", "garden-dev", "--subresource=status", "--type=merge",
		"--patch-file", filepath.Join(examples, "shoot-status-patch.json"))
	wide := kubectl("get", "shoots", "-n", "garden-dev", "-o", "wide")
	assert.Equal(t, []string{"NAME", "K8S", "VERSION", "STATUS", "ADDRESSES", "AGE"}, strings.Fields(strings.SplitN(wide, "\n", 2)[0]))
	assert.Regexp(t, `my-shoot\s+1\.31\.2\s+<unknown>\s+external,internal`, wide)

	describe := kubectl("describe", "ins", "example", "-n", "garden-dev")
	assert.Contains(t, describe, "Name:")

	kubectl("delete", "-f", filepath.Join(examples, "internalsecret.yaml"))
	assert.NotContains(t, kubectl("get", "ins", "-A"), "example")
}
