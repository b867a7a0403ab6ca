package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// server is one garden-apiserver process in standalone mode on the shared etcd.
type server struct {
	proc   *procs.Process
	client versioned.Interface
	rest   rest.Interface
}

// startServer runs bin in standalone mode with its state in stateDir (the CAs, the admin
// kubeconfig and the generated encryption key survive the upgrade) and waits until it is ready.
func startServer(t *testing.T, g *procs.Group, name, bin, etcdURL, stateDir string, extra ...string) *server {
	t.Helper()
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--standalone", "--state-dir=" + stateDir, "--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port)}, extra...)
	p, err := g.Start(name, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := waitKubeconfig(t, p, filepath.Join(stateDir, "admin.kubeconfig"), port)
	// JSON: the previous build's protobuf has other field numbers than this client's.
	cfg.ContentType = "application/json"
	client, err := versioned.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{proc: p, client: client, rest: client.Discovery().RESTClient()}
	poll(t, 2*time.Minute, name+" ready", func(ctx context.Context) error {
		mustRun(t, p)
		_, err := s.rest.Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	})
	return s
}

// waitKubeconfig waits for the admin kubeconfig the server writes for its port.
func waitKubeconfig(t *testing.T, p *procs.Process, path string, port int) *rest.Config {
	t.Helper()
	var cfg *rest.Config
	want := fmt.Sprintf("127.0.0.1:%d", port)
	poll(t, 2*time.Minute, "admin kubeconfig for "+want, func(context.Context) error {
		mustRun(t, p)
		c, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return err
		}
		if u := c.Host; u != "https://"+want {
			return fmt.Errorf("kubeconfig points at %s", u)
		}
		cfg = c
		return nil
	})
	return cfg
}

// mustRun fails the test if p has exited.
func mustRun(t *testing.T, p *procs.Process) {
	t.Helper()
	if p.Exited() {
		t.Fatalf("%s exited (%v):\n%s", p.Name, p.Err(), procs.Tail(p.LogPath, 40))
	}
}

// encryptionStatus reads /encryption-status.
func (s *server) encryptionStatus(ctx context.Context) (encryption.Status, error) {
	var st encryption.Status
	b, err := s.rest.Get().AbsPath(encryption.StatusPath).DoRaw(ctx)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// poll calls f every 100 ms until it returns nil, failing the test after timeout.
func poll(t *testing.T, timeout time.Duration, what string, f func(context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = f(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last: %v)", what, err, last)
	}
}
