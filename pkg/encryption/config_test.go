package encryption

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
)

// countLoads counts the loads of the configuration file for the duration of the test.
func countLoads(t *testing.T) *atomic.Int32 {
	var n atomic.Int32
	orig := loadEncryptionConfig
	loadEncryptionConfig = func(ctx context.Context, file string, reload bool, id string) (*encryptionconfig.EncryptionConfiguration, error) {
		n.Add(1)
		return orig(ctx, file, reload, id)
	}
	t.Cleanup(func() { loadEncryptionConfig = orig })
	return &n
}

func newTestKeyring(t *testing.T, content string, reload bool) (*keyring, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "encryption.yaml")
	writeFile(t, p, content)
	k, err := newKeyring(t.Context(), p, reload, time.Hour, "test")
	require.NoError(t, err)
	return k, p
}

func hashOf(t *testing.T, p string) string {
	h, err := encryptionconfig.GetEncryptionConfigHash(p)
	require.NoError(t, err)
	return h
}

// The keyring loads each content of the file once: checks of an unchanged file load nothing, a
// change is loaded and takes effect, a broken file is tried again only after a pause and
// leaves the configuration in effect as it was.
func TestKeyringLoadsEachContentOnce(t *testing.T) {
	loads := countLoads(t)
	k1 := keyed("aescbc", "k1")
	k, p := newTestKeyring(t, providerConfig(k1), true)
	first := k.current()
	assert.EqualValues(t, 1, loads.Load())
	for range 3 {
		k.refresh(t.Context())
	}
	assert.EqualValues(t, 1, loads.Load(), "an unchanged file is not loaded again")
	loaded, hash, err := k.state()
	assert.True(t, loaded)
	assert.NoError(t, err)
	assert.Equal(t, hashOf(t, p), hash)

	writeFile(t, p, providerConfig(keyed("aescbc", "k2")+k1))
	k.refresh(t.Context())
	k.refresh(t.Context())
	assert.EqualValues(t, 2, loads.Load())
	loaded, hash, _ = k.state()
	assert.True(t, loaded)
	assert.Equal(t, hashOf(t, p), hash)
	assert.Equal(t, []*generation{first}, k.gens.Load().previous, "the earlier configuration is kept for reads")

	good := hash
	writeFile(t, p, providerConfig("  - aescbc:\n      keys:\n      - name: bad\n        secret: c2hvcnQ=\n"))
	k.refresh(t.Context())
	k.refresh(t.Context())
	assert.EqualValues(t, 3, loads.Load(), "a broken file is not retried at once")
	loaded, hash, err = k.state()
	assert.False(t, loaded)
	assert.Error(t, err)
	assert.Equal(t, good, hash, "the previous configuration stays in effect")

	writeFile(t, p, providerConfig(keyed("secretbox", "k3")+k1))
	k.refresh(t.Context())
	assert.EqualValues(t, 4, loads.Load())
	loaded, hash, err = k.state()
	assert.True(t, loaded)
	assert.NoError(t, err)
	assert.Equal(t, hashOf(t, p), hash)
}

// Without automatic reload the file is loaded at start only; a change is reported, not applied.
func TestKeyringWithoutReload(t *testing.T) {
	loads := countLoads(t)
	k, p := newTestKeyring(t, providerConfig(keyed("aescbc", "k1")), false)
	start := k.current().hash
	writeFile(t, p, providerConfig(keyed("aescbc", "k2")))
	k.refresh(t.Context())
	assert.EqualValues(t, 1, loads.Load())
	loaded, hash, err := k.state()
	assert.False(t, loaded)
	assert.NoError(t, err)
	assert.Equal(t, start, hash)
}

// The transformer a store got before a reload writes with the new configuration afterwards and
// reads data of the earlier one as stale until the earlier one is forgotten.
func TestKeyringTransformersFollowReloads(t *testing.T) {
	ctx, dataCtx := t.Context(), value.DefaultContext("/registry-gardener/core.gardener.cloud/internalsecrets/ns/a")
	k, p := newTestKeyring(t, providerConfig(keyed("aescbc", "k1")), true)
	tr := k.TransformerForResource(secrets).(*transformer)
	assert.Same(t, tr, k.transformerOf(secrets), "one transformer per resource")
	old, err := tr.TransformToStorage(ctx, []byte("k8s\x00old"), dataCtx)
	require.NoError(t, err)
	oldWrite := tr.lastWrite.Load()
	assert.True(t, tr.isCurrent(ctx, oldWrite))

	writeFile(t, p, providerConfig(keyed("secretbox", "k2")))
	k.refresh(ctx)
	v, err := tr.TransformToStorage(ctx, []byte("k8s\x00new"), dataCtx)
	require.NoError(t, err)
	assert.Equal(t, "k8s:enc:secretbox:v1:k2:", StoredPrefix(v))
	out, stale, err := tr.TransformFromStorage(ctx, old, dataCtx)
	require.NoError(t, err, "k1 was dropped from the file, the earlier configuration still reads it")
	assert.True(t, stale)
	assert.Equal(t, "k8s\x00old", string(out))
	assert.False(t, tr.isCurrent(ctx, oldWrite), "written before the change: no longer current")

	k.forgetPrevious()
	_, _, err = tr.TransformFromStorage(ctx, old, dataCtx)
	assert.ErrorContains(t, err, "k8s:enc:aescbc:v1:k1:")
}

// Health checks are named as the library names them.
func TestKeyringHealthChecks(t *testing.T) {
	k, _ := newTestKeyring(t, providerConfig(keyed("aescbc", "k1")), true)
	checks := k.healthChecks()
	require.Len(t, checks, 1)
	assert.Equal(t, "kms-providers", checks[0].Name())
	g, err := k.checkHealth(t.Context())
	assert.NoError(t, err)
	assert.False(t, g.usesKMS(), "no KMS provider")

	none, err := newKeyring(t.Context(), "", false, time.Hour, "test")
	require.NoError(t, err)
	assert.Empty(t, none.healthChecks())
	loaded, hash, err := none.state()
	assert.True(t, loaded)
	assert.Empty(t, hash)
	assert.NoError(t, err)
}
