package integration

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	envelopekmsv2 "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmstypes "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2"

	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
)

const kmsPrefix = "k8s:enc:kms:v2:test-kms:"

// keyIDs counts the KMS key IDs the stored values were encrypted under.
func keyIDs(t *testing.T, raw map[string][]byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	for k, v := range raw {
		require.Truef(t, bytes.HasPrefix(v, []byte(kmsPrefix)), "%s is not KMS v2 encrypted", k)
		var o kmstypes.EncryptedObject
		require.NoError(t, proto.Unmarshal(v[len(kmsPrefix):], &o))
		out[o.KeyID]++
	}
	return out
}

// KMS v2 through the test plugin on a real unix socket: encryption, a key rotation in the
// plugin, and the plugin going away.
func TestEncryptionKMSv2(t *testing.T) {
	e := newEncEnv(t)
	plugin, err := kmsplugin.New(filepath.Join(t.TempDir(), "kms.sock"), "kek-1", nil)
	require.NoError(t, err)
	require.NoError(t, plugin.Start())
	t.Cleanup(plugin.Stop)
	hash := e.write(encConfig(entry([]string{secretsRes}, kmsv2("test-kms", plugin.Socket))))
	s := e.start("")
	ctx := context.Background()
	client := s.Client.CoreV1beta1().InternalSecrets(ns)

	createSecrets(t, s, "k", 5, "MARKER-kms")
	raw := e.etcd.Raw(t, secretsPrefix)
	assert.Equal(t, map[string]int{"kek-1": 5}, keyIDs(t, raw))
	assert.False(t, containsMarker(raw, "MARKER-kms"))
	got, err := client.Get(ctx, "k-002", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-kms", string(got.Data["marker"]))
	waitMigrated(t, s, hash, 30*time.Second)

	// The plugin goes away and the cached write key expires: writes fail clearly with 503 and
	// Retry-After (nothing is written, so retrying is safe), existing objects stay stored and
	// readable (their DEK is cached).
	plugin.Stop()
	restore := envelopekmsv2.SetNowFuncForTests("test-kms", func() time.Time { return time.Now().Add(10 * time.Minute) })
	defer restore()
	before := e.etcd.Raw(t, secretsPrefix)
	_, err = client.Create(ctx, newSecret("k-down", map[string]string{"marker": "MARKER-kms"}), metav1.CreateOptions{})
	require.Error(t, err)
	assert.True(t, apierrors.IsServiceUnavailable(err), "want 503, got %v", err)
	retry, ok := apierrors.SuggestsClientDelay(err)
	assert.True(t, ok && retry > 0, "Retry-After suggested")
	assert.Contains(t, err.Error(), "encrypting internalsecrets.core.gardener.cloud failed, nothing was written")
	assert.Contains(t, err.Error(), "expired")
	_, err = client.Get(ctx, "k-down", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "got %v", err)
	assert.Equal(t, before, e.etcd.Raw(t, secretsPrefix), "nothing stored changed")
	got, err = client.Get(ctx, "k-004", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-kms", string(got.Data["marker"]))

	// The plugin comes back with a rotated key: once the server's next status call sees the new
	// key ID (status is cached for 20s), writes work again and every object is rewritten under it.
	require.NoError(t, plugin.AddKey("kek-2", nil))
	require.NoError(t, plugin.Start())
	back := time.Now()
	require.Eventually(t, func() bool {
		_, err := client.Create(ctx, newSecret("k-back", map[string]string{"marker": "MARKER-kms"}), metav1.CreateOptions{})
		return err == nil
	}, 40*time.Second, 200*time.Millisecond)
	t.Logf("writes work again after %s", time.Since(back).Round(time.Millisecond))
	require.Eventually(t, func() bool {
		return keyIDs(t, e.etcd.Raw(t, secretsPrefix))["kek-2"] == 6 && encStatus(t, s).AllMigrated
	}, 30*time.Second, 100*time.Millisecond)
	t.Logf("all objects under the new key ID after %s", time.Since(back).Round(time.Millisecond))
	got, err = client.Get(ctx, "k-001", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-kms", string(got.Data["marker"]))
}

// Two replicas on one etcd: one migrates at a time, each object is rewritten once, both
// report completion.
func TestEncryptionTwoReplicas(t *testing.T) {
	e := newEncEnv(t)
	e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	flags := []string{"--encryption-migration-rate=60", "--encryption-migration-batch-size=20"}
	a := e.start(filepath.Join(t.TempDir(), "a"), flags...)
	b := e.start(filepath.Join(t.TempDir(), "b"), flags...)
	createSecrets(t, a, "m", 120, "MARKER-replicas")

	hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key2", "key1"))))
	sawMigrating := false
	require.Eventually(t, func() bool {
		sa, sb := encStatus(t, a), encStatus(t, b)
		require.False(t, sa.Migrating && sb.Migrating, "both replicas migrate at once")
		sawMigrating = sawMigrating || sa.Migrating || sb.Migrating
		return sa.AllMigrated && sb.AllMigrated && sa.ConfigHash == hash && sb.ConfigHash == hash
	}, 60*time.Second, 25*time.Millisecond)
	assert.True(t, sawMigrating)

	sa, sb := encStatus(t, a), encStatus(t, b)
	assert.Len(t, sa.Replicas, 2)
	assert.True(t, sa.ReplicasAgree)
	assert.EqualValues(t, 120, resourceStatus(sa, secretsRes).Migrated+resourceStatus(sb, secretsRes).Migrated,
		"each object rewritten exactly once")
	requireStoredWith(t, e.etcd.Raw(t, secretsPrefix), "k8s:enc:aescbc:v1:key2:")
}
