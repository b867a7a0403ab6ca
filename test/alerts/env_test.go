package alerts

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

type env struct {
	root, dir  string
	procs      *procs.Group
	etcdURL    string
	configFile string
	keyA, keyB string
	kms        *kmsplugin.Plugin
	replicas   [2]*replica
	prom       *prometheus
}

func (e *env) instances() []string {
	return []string{e.replicas[0].addr(), e.replicas[1].addr()}
}

// setup starts etcd, the KMS plugin, two standalone replicas on that etcd sharing one encryption
// configuration (InternalSecrets with aescbc key A, Shoots with the KMS plugin), and Prometheus.
func setup(t *testing.T) *env {
	root := repoRoot(t)
	bins := map[string]string{
		"etcd":             filepath.Join(root, "_output", "tools", "bin", "etcd"),
		"garden-apiserver": filepath.Join(root, "_output", "bin", "garden-apiserver"),
	}
	for name, p := range bins {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing (make e2e builds it): %v", name, err)
		}
	}
	dir := t.TempDir()
	e := &env{root: root, dir: dir, procs: &procs.Group{Dir: dir}, configFile: filepath.Join(dir, "encryption.yaml"),
		keyA: randomKey(t), keyB: randomKey(t)}
	t.Cleanup(func() {
		e.procs.StopAll()
		if t.Failed() {
			for _, n := range []string{"garden-apiserver-a", "garden-apiserver-b", "prometheus"} {
				t.Logf("--- %s.log (tail)\n%s", n, procs.Tail(filepath.Join(dir, n+".log"), 40))
			}
		}
	})
	var err error
	if e.etcdURL, _, err = e.procs.StartEtcd(bins["etcd"], "etcd", "--unsafe-no-fsync"); err != nil {
		t.Fatal(err)
	}
	// A short socket path: unix socket paths are limited to about 100 bytes.
	sockDir, err := os.MkdirTemp("", "kms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	if e.kms, err = kmsplugin.New(filepath.Join(sockDir, "kms.sock"), "kek-1", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.kms.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.kms.Stop)
	e.writeConfig(t, e.keyA)
	for i, name := range []string{"a", "b"} {
		e.replicas[i] = newReplica(t, e, bins["garden-apiserver"], name)
		e.replicas[i].start(t, true)
	}
	e.prom = startPrometheus(t, e)
	return e
}

// writeConfig writes the encryption configuration: InternalSecrets with the aescbc keys (the
// first one writes), Shoots with the KMS plugin.
func (e *env) writeConfig(t *testing.T, keys ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n")
	b.WriteString("- resources: [internalsecrets.core.gardener.cloud]\n  providers:\n  - aescbc:\n      keys:\n")
	for _, k := range keys {
		// Each key keeps its name: the stored prefix names the key that encrypted a value.
		name := map[string]string{e.keyA: "key-a", e.keyB: "key-b"}[k]
		fmt.Fprintf(&b, "      - name: %s\n        secret: %s\n", name, k)
	}
	fmt.Fprintf(&b, "- resources: [shoots.core.gardener.cloud]\n  providers:\n  - kms:\n      apiVersion: v2\n      name: test-kms\n      endpoint: unix://%s\n      timeout: 3s\n", e.kms.Socket)
	if err := os.WriteFile(e.configFile+".tmp", []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.configFile+".tmp", e.configFile); err != nil {
		t.Fatal(err)
	}
}

type replica struct {
	name, bin, stateDir string
	port                int
	args                []string
	proc                *procs.Process
	e                   *env
}

func newReplica(t *testing.T, e *env, bin, name string) *replica {
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{name: "garden-apiserver-" + name, bin: bin, stateDir: filepath.Join(e.dir, "state-"+name), port: port, e: e}
	r.args = []string{"--standalone", "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--state-dir=" + r.stateDir, "--etcd-servers=" + e.etcdURL,
		"--encryption-provider-config=" + e.configFile, "--encryption-provider-config-automatic-reload",
		"--encryption-provider-config-reload-interval=1s",
		"--shoot-kubeconfig-key-pool-size=0"} // no kubeconfigs issued here: no keys to generate
	return r
}

func (r *replica) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// start runs the replica; with ready it waits for /readyz, else until /livez answers.
func (r *replica) start(t *testing.T, ready bool) {
	t.Helper()
	p, err := r.e.procs.Start(r.name, r.bin, r.args...)
	if err != nil {
		t.Fatal(err)
	}
	r.proc = p
	caFile := filepath.Join(r.stateDir, "pki", "serving-ca.crt")
	deadline := time.Now().Add(60 * time.Second)
	for _, err := os.Stat(caFile); err != nil; _, err = os.Stat(caFile) {
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s wrote no serving CA: %s", r.name, procs.Tail(p.LogPath, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	path := "/livez"
	if ready {
		path = "/readyz"
	}
	if err := procs.WaitHealthy(p, "https://"+r.addr()+path, caFile, "", 90*time.Second); err != nil {
		t.Fatal(err)
	}
}

func (r *replica) stop() { r.proc.Stop() }

func (r *replica) client(t *testing.T) versioned.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.stateDir, "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := versioned.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randomKey(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func repoRoot(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "artifacts", "monitoring", "alerting-rules.yaml")); err == nil {
			return dir
		}
	}
	t.Fatalf("no repository above %s", wd)
	return ""
}

// shortFor rewrites every alert's for: duration, so an alert fires seconds after its condition.
var forLine = regexp.MustCompile(`(?m)^(\s+for:) \S+$`)

func shortFor(rules []byte) []byte { return forLine.ReplaceAll(rules, []byte("$1 2s")) }
