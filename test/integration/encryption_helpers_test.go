package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/client-go/rest"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

const (
	secretsPrefix = "/registry-gardener/core.gardener.cloud/internalsecrets/"
	shootsPrefix  = "/registry-gardener/core.gardener.cloud/shoots/"
	secretsRes    = "internalsecrets.core.gardener.cloud"
	shootsRes     = "shoots.core.gardener.cloud"
)

// encEnv is one etcd and one encryption configuration file shared by the servers of a test.
type encEnv struct {
	t     testing.TB
	etcd  *framework.Etcd
	cfg   string
	state string
	keys  map[string]string
}

func newEncEnv(t testing.TB) *encEnv {
	dir := t.TempDir()
	return &encEnv{t: t, etcd: framework.StartEtcd(t), cfg: filepath.Join(dir, "encryption.yaml"),
		state: filepath.Join(dir, "state"), keys: map[string]string{}}
}

// start runs a server that reloads the configuration every 200ms and migrates without a rate
// limit unless extra flags say otherwise.
func (e *encEnv) start(stateDir string, extra ...string) *framework.Server {
	if stateDir == "" {
		stateDir = e.state
	}
	args := append([]string{e.etcd.EtcdFlag(), "--encryption-provider-config=" + e.cfg,
		"--encryption-provider-config-automatic-reload", "--encryption-provider-config-reload-interval=200ms",
		"--encryption-migration-rate=0"}, extra...)
	return framework.Start(e.t, stateDir, args...)
}

// write replaces the configuration file atomically (as a ConfigMap mount would) and returns
// the hash the server reports once it has loaded it.
func (e *encEnv) write(content string) string {
	e.t.Helper()
	tmp := e.cfg + ".tmp"
	require.NoError(e.t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(e.t, os.Rename(tmp, e.cfg))
	h, err := encryptionconfig.GetEncryptionConfigHash(e.cfg)
	require.NoError(e.t, err)
	return h
}

// secret returns the (test-lifetime) random 32-byte key of a key name.
func (e *encEnv) secret(name string) string {
	if s, ok := e.keys[name]; ok {
		return s
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	e.keys[name] = base64.StdEncoding.EncodeToString(b)
	return e.keys[name]
}

func (e *encEnv) keyed(provider string, names ...string) string {
	s := "  - " + provider + ":\n      keys:\n"
	for _, n := range names {
		s += fmt.Sprintf("      - name: %s\n        secret: %s\n", n, e.secret(n))
	}
	return s
}

func (e *encEnv) aescbc(names ...string) string    { return e.keyed("aescbc", names...) }
func (e *encEnv) aesgcm(names ...string) string    { return e.keyed("aesgcm", names...) }
func (e *encEnv) secretbox(names ...string) string { return e.keyed("secretbox", names...) }

func identity() string { return "  - identity: {}\n" }

func kmsv2(name, socket string) string {
	return fmt.Sprintf("  - kms:\n      apiVersion: v2\n      name: %s\n      endpoint: unix://%s\n      timeout: 3s\n", name, socket)
}

func entry(resources []string, providers ...string) string {
	quoted := make([]string, len(resources))
	for i, r := range resources {
		quoted[i] = `"` + r + `"` // a leading * is YAML syntax
	}
	return "- resources: [" + strings.Join(quoted, ", ") + "]\n  providers:\n" + strings.Join(providers, "")
}

func encConfig(entries ...string) string {
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n" + strings.Join(entries, "")
}

func getPath(t testing.TB, s *framework.Server, path string) []byte {
	t.Helper()
	return s.Get(t, path)
}

func encStatus(t testing.TB, s *framework.Server) encryption.Status {
	t.Helper()
	var st encryption.Status
	require.NoError(t, json.Unmarshal(getPath(t, s, encryption.StatusPath), &st))
	return st
}

func resourceStatus(st encryption.Status, res string) encryption.ResourceStatus {
	for _, r := range st.Resources {
		if r.Resource == res {
			return r
		}
	}
	return encryption.ResourceStatus{}
}

// waitMigrated waits until the server reports every object migrated under the file content
// with the given hash.
func waitMigrated(t testing.TB, s *framework.Server, hash string, timeout time.Duration) encryption.Status {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		st := encStatus(t, s)
		if st.AllMigrated && st.ConfigHash == hash {
			t.Logf("migrated after %s", time.Since(start).Round(time.Millisecond))
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", "  ")
			t.Fatalf("encryption migration did not complete within %s:\n%s", timeout, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metricValue sums the samples of a metric on /metrics whose labels match every
// filter `label="value"` (0 when absent).
func metricValue(t testing.TB, s *framework.Server, name string, filters ...string) float64 {
	t.Helper()
	return s.Metric(t, name, filters...)
}

// fastClient is not throttled by client-go's default 5 requests per second.
func fastClient(t testing.TB, s *framework.Server) versioned.Interface {
	t.Helper()
	cfg := rest.CopyConfig(s.Admin)
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := versioned.NewForConfig(cfg)
	require.NoError(t, err)
	return c
}

func createSecrets(t testing.TB, s *framework.Server, prefix string, n int, marker string) {
	t.Helper()
	c := fastClient(t, s)
	for i := 0; i < n; i++ {
		_, err := c.CoreV1beta1().InternalSecrets(ns).Create(context.Background(),
			newSecret(fmt.Sprintf("%s-%03d", prefix, i), map[string]string{"marker": marker}), metav1.CreateOptions{})
		require.NoError(t, err)
	}
}

func createShoots(t testing.TB, s *framework.Server, prefix string, n int, marker string) {
	t.Helper()
	c := fastClient(t, s)
	for i := 0; i < n; i++ {
		_, err := c.CoreV1beta1().Shoots(ns).Create(context.Background(), &corev1beta1.Shoot{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%03d", prefix, i), Namespace: ns,
				Annotations: map[string]string{"marker": marker}},
			Spec: corev1beta1.ShootSpec{Kubernetes: corev1beta1.Kubernetes{Version: "1.31.2"}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
}

// requireStoredWith checks that every value starts with prefix ("" for identity: plain protobuf).
func requireStoredWith(t testing.TB, raw map[string][]byte, prefix string) {
	t.Helper()
	require.NotEmpty(t, raw)
	for k, v := range raw {
		if prefix == "" {
			require.Truef(t, bytes.HasPrefix(v, []byte("k8s\x00")), "%s: want plaintext protobuf, stored with %q", k, encryption.StoredPrefix(v))
		} else {
			require.Truef(t, bytes.HasPrefix(v, []byte(prefix)), "%s: want %q, stored with %q", k, prefix, encryption.StoredPrefix(v))
		}
	}
}

// containsMarker: the marker, plain or base64 (as Secret data is stored), is in a value.
func containsMarker(raw map[string][]byte, marker string) bool {
	b64 := base64.StdEncoding.EncodeToString([]byte(marker))
	for _, v := range raw {
		if bytes.Contains(v, []byte(marker)) || bytes.Contains(v, []byte(b64)) {
			return true
		}
	}
	return false
}

func only(raw map[string][]byte, namePrefix string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range raw {
		if strings.Contains(k, "/"+namePrefix) {
			out[k] = v
		}
	}
	return out
}
