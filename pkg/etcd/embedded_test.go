package etcd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func startEmbedded(t *testing.T, dir string) *Embedded {
	t.Helper()
	e, err := StartEmbedded(context.Background(), filepath.Join(dir, "etcd"), filepath.Join(dir, SocketFile))
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e
}

func privateTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o700))
	return dir
}

func TestEmbeddedListensOnItsUnixSocketOnly(t *testing.T) {
	dir := privateTempDir(t)
	e := startEmbedded(t, dir)
	socket := filepath.Join(dir, SocketFile)
	assert.Equal(t, "unix://"+socket, e.Endpoint)

	require.NotEmpty(t, e.etcd.Clients)
	for _, l := range e.etcd.Clients {
		assert.Equal(t, "unix", l.Addr().Network(), "client listener %s", l.Addr())
		assert.Equal(t, socket, l.Addr().String())
	}
	assert.Empty(t, e.etcd.Peers, "a single member has no peer listener")
	assert.Empty(t, e.etcd.Config().ListenMetricsUrls, "no metrics listener")

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = cli.Put(ctx, "/k", "v")
	require.NoError(t, err)
	resp, err := cli.Get(ctx, "/k")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.Equal(t, "v", string(resp.Kvs[0].Value))
}

func TestEmbeddedRefusesASocketOthersCouldReach(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	_, err := StartEmbedded(context.Background(), filepath.Join(dir, "etcd"), filepath.Join(dir, SocketFile))
	assert.ErrorContains(t, err, "other users could connect")
	_, statErr := os.Stat(filepath.Join(dir, "etcd"))
	assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing is created")
}

func TestCheckSocketPath(t *testing.T) {
	assert.NoError(t, CheckSocketPath("/var/lib/garden-apiserver/etcd.sock"))
	assert.ErrorContains(t, CheckSocketPath("state/etcd.sock"), "not absolute")
	long := "/" + strings.Repeat("d", 100) + "/" + SocketFile
	assert.ErrorContains(t, CheckSocketPath(long), "use a shorter --state-dir")
}
