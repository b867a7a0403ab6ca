package framework

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/garden-apiserver/garden-apiserver/pkg/etcd"
)

// Etcd is a real etcd for one test, outliving the servers started on it (pass EtcdFlag to
// Start), with a raw client to read what is stored.
type Etcd struct {
	Endpoint string
	Client   *clientv3.Client
}

// EtcdFlag points a server at this etcd.
func (e *Etcd) EtcdFlag() string { return "--etcd-servers=" + e.Endpoint }

// StartEtcd runs an embedded etcd (on a unix socket, as the server's own) until the test ends.
func StartEtcd(t testing.TB) *Etcd {
	t.Helper()
	dir := t.TempDir()
	// The socket's directory must be private (pkg/etcd).
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e, err := etcd.StartEmbedded(context.Background(), filepath.Join(dir, "etcd"), filepath.Join(dir, etcd.SocketFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return &Etcd{Endpoint: e.Endpoint, Client: cli}
}

// Raw returns the stored bytes of every key under prefix.
func (e *Etcd) Raw(t testing.TB, prefix string) map[string][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := e.Client.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = kv.Value
	}
	return out
}
