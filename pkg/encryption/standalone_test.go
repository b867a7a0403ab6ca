package encryption

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
)

var internalSecrets = schema.GroupResource{Group: "core.gardener.cloud", Resource: "internalsecrets"}

// The generated configuration encrypts InternalSecrets and trusts no plaintext value: one that
// someone else wrote into etcd is refused instead of served as the server's own.
func TestStandaloneConfigRefusesPlaintext(t *testing.T) {
	ctx := context.Background()
	path, err := EnsureStandaloneConfig(t.TempDir())
	require.NoError(t, err)
	cfg, err := encryptionconfig.LoadEncryptionConfig(ctx, path, false, "test")
	require.NoError(t, err)
	tr, ok := cfg.Transformers[internalSecrets]
	require.True(t, ok, "InternalSecrets are configured")

	dataCtx := value.DefaultContext("/registry-gardener/core.gardener.cloud/internalsecrets/ns/a")
	stored, err := tr.TransformToStorage(ctx, []byte("plain"), dataCtx)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(stored), "k8s:enc:secretbox:v1:key-"), "written with secretbox: %q", stored[:24])
	read, stale, err := tr.TransformFromStorage(ctx, stored, dataCtx)
	require.NoError(t, err)
	assert.Equal(t, "plain", string(read))
	assert.False(t, stale)

	_, _, err = tr.TransformFromStorage(ctx, []byte("k8s\x00{\"kind\":\"InternalSecret\"}"), dataCtx)
	assert.Error(t, err, "a plaintext value is not read")
}

// earlierConfigFixture is the configuration earlier releases generated in the state
// directory: identity second.
const earlierConfigFixture = "testdata/earlier-standalone-config.yaml"

// A configuration already in the state directory, such as one with the identity provider that
// earlier releases generated, is kept as it is.
func TestStandaloneConfigIsNeverRewritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, StandaloneConfigFile)
	old, err := os.ReadFile(earlierConfigFixture)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, old, 0o600))
	got, err := EnsureStandaloneConfig(dir)
	require.NoError(t, err)
	assert.Equal(t, path, got)
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, old, content)
}
