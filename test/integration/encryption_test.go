package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	corev1beta1client "github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/typed/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
)

// Every provider, through reloads of one server: new objects are stored with the provider's
// prefix and none of their data in clear, existing ones are rewritten, reads return plaintext.
// Wildcard entries (*.core.gardener.cloud, *.*) cover shoots as well.
func TestEncryptionProviders(t *testing.T) {
	e := newEncEnv(t)
	plugin, err := kmsplugin.New(filepath.Join(t.TempDir(), "kms.sock"), "kek-1", nil)
	require.NoError(t, err)
	require.NoError(t, plugin.Start())
	t.Cleanup(plugin.Stop)

	readKeys := identity() + e.aescbc("cbc-key") + e.aesgcm("gcm-key") + e.secretbox("box-key")
	e.write(encConfig(entry([]string{secretsRes}, readKeys)))
	s := e.start("")
	ctx := context.Background()

	for _, tc := range []struct {
		name        string
		resources   []string
		first       string
		prefix      string
		shootPrefix string
	}{
		{"identity", []string{secretsRes}, identity(), "", ""},
		{"aescbc", []string{secretsRes}, e.aescbc("cbc-key"), "k8s:enc:aescbc:v1:cbc-key:", ""},
		{"aesgcm-group-wildcard", []string{"*.core.gardener.cloud"}, e.aesgcm("gcm-key"), "k8s:enc:aesgcm:v1:gcm-key:", "k8s:enc:aesgcm:v1:gcm-key:"},
		{"secretbox-any-wildcard", []string{"*.*"}, e.secretbox("box-key"), "k8s:enc:secretbox:v1:box-key:", "k8s:enc:secretbox:v1:box-key:"},
		{"kms-v2", []string{secretsRes}, kmsv2("test-kms", plugin.Socket), "k8s:enc:kms:v2:test-kms:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The provider under test first; the others stay as read keys (KMS names must be unique).
			rest := readKeys + kmsv2("test-kms", plugin.Socket)
			if tc.name == "kms-v2" {
				rest = readKeys
			}
			hash := e.write(encConfig(entry(tc.resources, tc.first, rest)))
			waitMigrated(t, s, hash, 30*time.Second)
			marker := "MARKER-" + tc.name + "-7f3a"
			createSecrets(t, s, tc.name, 2, marker)
			createShoots(t, s, tc.name, 1, marker)

			secrets, shoots := e.etcd.Raw(t, secretsPrefix), e.etcd.Raw(t, shootsPrefix)
			requireStoredWith(t, secrets, tc.prefix) // new and rewritten old objects
			requireStoredWith(t, shoots, tc.shootPrefix)
			if tc.prefix == "" {
				assert.True(t, containsMarker(only(secrets, tc.name), marker), "control: identity stores the data readable")
			} else {
				assert.False(t, containsMarker(secrets, marker), "marker found in encrypted InternalSecrets")
			}
			assert.Equal(t, tc.shootPrefix == "", containsMarker(only(shoots, tc.name), marker), "marker in stored shoots")

			got, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(ctx, tc.name+"-000", metav1.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, marker, string(got.Data["marker"]))
			list, err := s.Client.CoreV1beta1().InternalSecrets(ns).List(ctx, metav1.ListOptions{})
			require.NoError(t, err)
			assert.Len(t, list.Items, len(secrets))
			shoot, err := s.Client.CoreV1beta1().Shoots(ns).Get(ctx, tc.name+"-000", metav1.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, marker, shoot.Annotations["marker"])
		})
	}
}

// With only internalsecrets configured, shoots are stored in plaintext.
func TestEncryptionPerResource(t *testing.T) {
	e := newEncEnv(t)
	hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	s := e.start("")
	createSecrets(t, s, "s", 3, "MARKER-per-resource")
	createShoots(t, s, "s", 3, "MARKER-per-resource")

	secrets, shoots := e.etcd.Raw(t, secretsPrefix), e.etcd.Raw(t, shootsPrefix)
	requireStoredWith(t, secrets, "k8s:enc:aescbc:v1:key1:")
	assert.False(t, containsMarker(secrets, "MARKER-per-resource"))
	requireStoredWith(t, shoots, "")
	assert.True(t, containsMarker(shoots, "MARKER-per-resource"))

	st := waitMigrated(t, s, hash, 30*time.Second)
	assert.Equal(t, "k8s:enc:aescbc:v1:key1:", resourceStatus(st, secretsRes).WritePrefix)
	assert.Equal(t, "identity", resourceStatus(st, shootsRes).WritePrefix)
}

// The configuration lifecycle on a running server: add a resource, rotate the write key, drop
// the old key (and restart to prove nothing depends on it), remove a resource from encryption.
func TestEncryptionReload(t *testing.T) {
	e := newEncEnv(t)
	e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	s := e.start("")
	createSecrets(t, s, "s", 20, "MARKER-reload")
	createShoots(t, s, "s", 20, "MARKER-reload")
	requireStoredWith(t, e.etcd.Raw(t, shootsPrefix), "")

	both := []string{secretsRes, shootsRes}
	// Add shoots: every existing shoot is encrypted.
	hash := e.write(encConfig(entry(both, e.aescbc("key1"), identity())))
	st := waitMigrated(t, s, hash, 30*time.Second)
	requireStoredWith(t, e.etcd.Raw(t, shootsPrefix), "k8s:enc:aescbc:v1:key1:")
	assert.False(t, containsMarker(e.etcd.Raw(t, shootsPrefix), "MARKER-reload"))
	assert.EqualValues(t, 20, resourceStatus(st, shootsRes).Migrated)
	assert.Equal(t, map[string]int{"k8s:enc:aescbc:v1:key1:": 20}, resourceStatus(st, shootsRes).StoredWith)
	assert.GreaterOrEqual(t, metricValue(t, s, "garden_apiserver_encryption_migration_objects_migrated_total"), 20.0)

	// Rotate: a new first key; everything moves to it.
	hash = e.write(encConfig(entry(both, e.aescbc("key2", "key1"))))
	waitMigrated(t, s, hash, 30*time.Second)
	requireStoredWith(t, e.etcd.Raw(t, secretsPrefix), "k8s:enc:aescbc:v1:key2:")
	requireStoredWith(t, e.etcd.Raw(t, shootsPrefix), "k8s:enc:aescbc:v1:key2:")
	assert.Equal(t, 1.0, metricValue(t, s, "garden_apiserver_encryption_migration_complete"))

	// Drop the old key; a restart proves no object still needs it.
	hash = e.write(encConfig(entry(both, e.aescbc("key2"))))
	waitMigrated(t, s, hash, 30*time.Second)
	s.Stop()
	s = e.start("")
	waitMigrated(t, s, hash, 30*time.Second)
	list, err := s.Client.CoreV1beta1().InternalSecrets(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 20)
	assert.Equal(t, "MARKER-reload", string(list.Items[7].Data["marker"]))
	shoots, err := s.Client.CoreV1beta1().Shoots(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, shoots.Items, 20)

	// Remove internalsecrets from the file altogether: they are decrypted to plaintext (the
	// server still holds the previous configuration to read them until they are rewritten).
	hash = e.write(encConfig(entry([]string{shootsRes}, e.aescbc("key2"))))
	waitMigrated(t, s, hash, 30*time.Second)
	secrets := e.etcd.Raw(t, secretsPrefix)
	requireStoredWith(t, secrets, "")
	assert.True(t, containsMarker(secrets, "MARKER-reload"))
	requireStoredWith(t, e.etcd.Raw(t, shootsPrefix), "k8s:enc:aescbc:v1:key2:")
	got, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(context.Background(), "s-011", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-reload", string(got.Data["marker"]))
}

// Writers keep updating objects and others are deleted while a rate-limited migration runs: no
// write is lost or reverted, no deleted object comes back, and everything ends on the new key.
func TestEncryptionConcurrentWrites(t *testing.T) {
	e := newEncEnv(t)
	e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	s := e.start("", "--encryption-migration-rate=20", "--encryption-migration-batch-size=10")
	// In key order: 20 hot objects (updated all the time, met first by the migration), 50 cold
	// ones only the migration rewrites, 10 deleted before the migration gets to them.
	const hot, cold, doomed = 20, 50, 10
	createSecrets(t, s, "c", hot+cold+doomed, "MARKER-concurrent")
	client := fastClient(t, s).CoreV1beta1().InternalSecrets(ns)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan map[string]string, 2)
	for w := 0; w < 2; w++ {
		go func(w int) { done <- updateEveryOther(ctx, client, w, hot) }(w)
	}

	hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key2", "key1"))))
	var st encryption.Status
	require.Eventually(t, func() bool {
		st = encStatus(t, s)
		return resourceStatus(st, secretsRes).Migrated >= 3
	}, 30*time.Second, 20*time.Millisecond)
	require.Greater(t, resourceStatus(st, secretsRes).Remaining, doomed, "the migration is under way")
	for i := hot + cold; i < hot+cold+doomed; i++ {
		require.NoError(t, client.Delete(context.Background(), fmt.Sprintf("c-%03d", i), metav1.DeleteOptions{}))
	}
	st = waitMigrated(t, s, hash, 60*time.Second)
	stop()
	last := map[string]string{}
	for w := 0; w < 2; w++ {
		for k, v := range <-done {
			last[k] = v
		}
	}
	require.Len(t, last, hot, "every hot object was updated")
	assert.GreaterOrEqual(t, resourceStatus(st, secretsRes).Migrated, int64(cold), "the controller rewrote the cold objects")

	raw := e.etcd.Raw(t, secretsPrefix)
	require.Len(t, raw, hot+cold, "deleted objects stay deleted")
	requireStoredWith(t, raw, "k8s:enc:aescbc:v1:key2:")
	list, err := client.List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, hot+cold)
	for _, o := range list.Items {
		assert.Equal(t, last[o.Name], string(o.Data["v"]), "%s has the writer's last value", o.Name)
		assert.Equal(t, "MARKER-concurrent", string(o.Data["marker"]))
	}
}

// updateEveryOther rewrites data key "v" of objects c-<w>, c-<w+2>, ... below n until ctx ends,
// pausing 10 ms between rounds, and returns the last value each update that succeeded wrote.
func updateEveryOther(ctx context.Context, client corev1beta1client.InternalSecretInterface, w, n int) map[string]string {
	last := map[string]string{}
	for round := 0; ctx.Err() == nil; round++ {
		for i := w; i < n && ctx.Err() == nil; i += 2 {
			name, val := fmt.Sprintf("c-%03d", i), fmt.Sprintf("w%d-r%d", w, round)
			obj, err := client.Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				continue
			}
			obj.Data["v"] = []byte(val)
			if _, err := client.Update(context.Background(), obj, metav1.UpdateOptions{}); err == nil {
				last[name] = val
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return last
}

// A restart in the middle of a migration continues it.
func TestEncryptionRestartMidMigration(t *testing.T) {
	e := newEncEnv(t)
	e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	s := e.start("", "--encryption-migration-rate=25", "--encryption-migration-batch-size=10")
	createSecrets(t, s, "r", 100, "MARKER-restart")
	hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key2", "key1"))))
	require.Eventually(t, func() bool { return resourceStatus(encStatus(t, s), secretsRes).Migrated >= 10 }, 30*time.Second, 20*time.Millisecond)
	s.Stop()

	counts := map[string]int{}
	for _, v := range e.etcd.Raw(t, secretsPrefix) {
		counts[encryption.StoredPrefix(v)]++
	}
	t.Logf("stored at restart: %v", counts)
	require.Greater(t, counts["k8s:enc:aescbc:v1:key1:"], 0, "the migration was interrupted")
	require.Greater(t, counts["k8s:enc:aescbc:v1:key2:"], 0, "the migration had started")

	s = e.start("")
	st := waitMigrated(t, s, hash, 30*time.Second)
	assert.EqualValues(t, counts["k8s:enc:aescbc:v1:key1:"], resourceStatus(st, secretsRes).Migrated, "the restarted server rewrote exactly the rest")
	requireStoredWith(t, e.etcd.Raw(t, secretsPrefix), "k8s:enc:aescbc:v1:key2:")
}

// A broken file on reload keeps the previous configuration serving, and says so.
func TestEncryptionBrokenReload(t *testing.T) {
	logs := framework.CaptureKlog(t, 0)
	e := newEncEnv(t)
	good := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	s := e.start("")
	createSecrets(t, s, "before", 2, "MARKER-broken")
	libReloads := "apiserver_encryption_config_controller_automatic_reloads_total"
	failuresBefore := metricValue(t, s, libReloads, `status="failure"`)

	// A key of the wrong length: valid YAML, invalid configuration.
	e.write(encConfig(entry([]string{secretsRes}, "  - aescbc:\n      keys:\n      - name: key2\n        secret: c2hvcnQ=\n")))
	var st encryption.Status
	require.Eventually(t, func() bool {
		st = encStatus(t, s)
		return st.ConfigError != "" && metricValue(t, s, libReloads, `status="failure"`) > failuresBefore
	}, 20*time.Second, 50*time.Millisecond)
	assert.False(t, st.ConfigLoaded)
	assert.False(t, st.AllMigrated)
	assert.Equal(t, good, st.ConfigHash, "the previous configuration stays in effect")
	assert.Contains(t, st.Message, "could not be loaded")
	assert.Equal(t, 0.0, metricValue(t, s, "garden_apiserver_encryption_config_loaded"))
	assert.GreaterOrEqual(t, metricValue(t, s, "garden_apiserver_encryption_config_load_errors_total"), 1.0)
	assert.Contains(t, logs.String(), "Encryption configuration file could not be loaded; the previous configuration stays in effect")
	assert.NotContains(t, logs.String(), e.secret("key1"), "keys never reach the log")

	// Still serving with key1.
	createSecrets(t, s, "after", 2, "MARKER-broken")
	requireStoredWith(t, e.etcd.Raw(t, secretsPrefix), "k8s:enc:aescbc:v1:key1:")
	got, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(context.Background(), "before-001", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-broken", string(got.Data["marker"]))

	// Fixed: applied and migrated.
	hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key2", "key1"))))
	waitMigrated(t, s, hash, 30*time.Second)
	requireStoredWith(t, e.etcd.Raw(t, secretsPrefix), "k8s:enc:aescbc:v1:key2:")
}

// Standalone mode without a configuration encrypts InternalSecrets with a key generated once.
func TestEncryptionStandaloneDefault(t *testing.T) {
	etcd := framework.StartEtcd(t)
	state := t.TempDir()
	s := framework.Start(t, state, etcd.EtcdFlag())
	createSecrets(t, s, "d", 2, "MARKER-default")

	cfg := filepath.Join(state, encryption.StandaloneConfigFile)
	fi, err := os.Stat(cfg)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	content, err := os.ReadFile(cfg)
	require.NoError(t, err)
	raw := etcd.Raw(t, secretsPrefix)
	requireStoredWith(t, raw, "k8s:enc:secretbox:v1:key-")
	assert.False(t, containsMarker(raw, "MARKER-default"))

	// The key is kept across restarts.
	s.Stop()
	s = framework.Start(t, state, etcd.EtcdFlag())
	again, err := os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Equal(t, content, again)
	got, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(context.Background(), "d-001", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-default", string(got.Data["marker"]))
}
