package server

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every flag is validated before the state directory, the embedded etcd or any file is made.
func TestCommandValidatesBeforeStartingAnything(t *testing.T) {
	for _, args := range [][]string{
		{"--encryption-migration-workers=0"},
		{"--shoot-kubeconfig-key-type=dsa"},
		{"--shoot-admin-kubeconfig-max-expiration=1m"},
		{"--cluster-check-timeout=-1s"},
		{"--enable-admission-plugins=NamespaceLifecycle"},
		{"--tls-cert-file=/etc/serving.crt"},
		{"--max-requests-inflight=-1"},
	} {
		t.Run(args[0], func(t *testing.T) {
			stateDir := filepath.Join(t.TempDir(), "state")
			cmd := NewCommand(context.Background(), io.Discard)
			cmd.SetArgs(append([]string{"--standalone", "--state-dir", stateDir}, args...))
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			require.Error(t, cmd.Execute())
			_, err := os.Stat(stateDir)
			assert.True(t, os.IsNotExist(err), "nothing is created for invalid flags: %v", err)
		})
	}
}

// The server's own flags come first in --help, each group from its own options.
func TestFlagGroups(t *testing.T) {
	fss := NewServerOptions(io.Discard).Flags()
	require.Equal(t, "standalone", fss.Order[0])
	for flag, group := range map[string]string{
		"state-dir":                             "standalone",
		"shoot-admin-kubeconfig-max-expiration": "shoot kubeconfigs",
		"encryption-migration-rate":             "encryption migration",
		"cluster-check-timeout":                 "cluster check",
		"etcd-servers":                          "etcd",
		"feature-gates":                         "generic",
		"v":                                     "global",
	} {
		assert.NotNil(t, fss.FlagSet(group).Lookup(flag), "--%s in %q", flag, group)
	}
}
