// Package etcd runs the embedded etcd used when no --etcd-servers are given.
//
// It listens on a unix socket only, never on TCP: the socket lives in a directory of mode
// 0700, so the file system lets only the server's user connect. A single member needs no peer
// listener; the peer URL it advertises is never listened on or dialled.
package etcd

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/logutil"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// SocketFile is the name of the client socket in the state directory.
const SocketFile = "etcd.sock"

// maxSocketPath is the longest path a unix socket can have on Linux (sun_path, 108 bytes with
// its terminating NUL).
const maxSocketPath = 107

// advertisedPeerURL is recorded as the member's peer URL. Nothing listens on it: a
// single-member cluster never dials its own peer URL, and data directories of earlier
// releases, which recorded a loopback TCP peer URL, start with it unchanged.
const advertisedPeerURL = "http://127.0.0.1:2380"

// Embedded is a single-member etcd listening on a unix socket only.
type Embedded struct {
	etcd    *embed.Etcd
	closing *atomic.Bool
	// Endpoint is the client URL to give to the storage layer.
	Endpoint string
}

// Endpoint is the client URL of an etcd listening on the unix socket at the absolute path socket.
func Endpoint(socket string) string {
	return "unix://" + socket
}

// CheckSocketPath returns an error when socket cannot be the path of a unix socket.
func CheckSocketPath(socket string) error {
	if !filepath.IsAbs(socket) {
		return fmt.Errorf("the etcd socket path %q is not absolute", socket)
	}
	if len(socket) > maxSocketPath {
		return fmt.Errorf("the etcd socket path %s is %d bytes long, unix sockets allow at most %d: use a shorter --state-dir",
			socket, len(socket), maxSocketPath)
	}
	return nil
}

// StartEmbedded starts etcd with its data in dir (created 0700), serving clients on the unix
// socket at the absolute path socket, and waits until it serves. The socket's directory must
// not be accessible to group or others.
func StartEmbedded(ctx context.Context, dir, socket string) (*Embedded, error) {
	if err := CheckSocketPath(socket); err != nil {
		return nil, err
	}
	if err := privateParent(socket); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating etcd data directory: %w", err)
	}
	clientURL, err := url.Parse(Endpoint(socket))
	if err != nil {
		return nil, err
	}
	peerURL, err := url.Parse(advertisedPeerURL)
	if err != nil {
		return nil, err
	}

	cfg := embed.NewConfig()
	cfg.Name = "garden-apiserver"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = nil
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.LogLevel = "error"
	closing := &atomic.Bool{}
	logCfg := logutil.DefaultZapLoggerConfig
	logCfg.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	lg, err := logCfg.Build(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return shutdownFilter{c, closing} }))
	if err != nil {
		return nil, err
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	// Keep the database from growing without bound under update-heavy load.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "5m"
	cfg.ListenMetricsUrls = nil

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s did not become ready within 60s", dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	return &Embedded{etcd: e, closing: closing, Endpoint: clientURL.String()}, nil
}

// Close stops etcd, flushing its data.
func (e *Embedded) Close() {
	e.closing.Store(true)
	e.etcd.Close()
}

// shutdownFilter drops the errors etcd logs for its own listeners closing during Close, which
// would read as a failure on every clean shutdown.
type shutdownFilter struct {
	zapcore.Core
	closing *atomic.Bool
}

func (f shutdownFilter) With(fields []zapcore.Field) zapcore.Core {
	return shutdownFilter{f.Core.With(fields), f.closing}
}

func (f shutdownFilter) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if f.closing.Load() && ent.Message == "setting up serving from embedded etcd failed." {
		return ce
	}
	return f.Core.Check(ent, ce)
}

// privateParent checks that only the owner can enter the socket's directory.
func privateParent(socket string) error {
	dir := filepath.Dir(socket)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("the etcd socket's directory: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("the etcd socket's directory %s has mode %s: other users could connect; it must be 0700", dir, perm)
	}
	return nil
}
