//go:build linux

package integration

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// watchOpens counts how often the file is opened from now on (inotify IN_OPEN), by anyone.
func watchOpens(t *testing.T, path string) func() int {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(fd) })
	_, err = unix.InotifyAddWatch(fd, path, unix.IN_OPEN)
	require.NoError(t, err)
	opens := 0
	buf := make([]byte, 64*unix.SizeofInotifyEvent)
	return func() int {
		for {
			n, err := unix.Read(fd, buf)
			if n <= 0 || err != nil {
				return opens
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				if binary.NativeEndian.Uint32(buf[off+4:])&unix.IN_OPEN != 0 {
					opens++
				}
				off += unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(buf[off+12:]))
			}
		}
	}
}

// The configuration file has one owner: a server that starts, encrypts writes and verifies
// every stored object opens the file exactly once (the keyring's load; the library's etcd
// options do not load it a second time). Reloads are checked once an hour here.
func TestEncryptionConfigReadOnce(t *testing.T) {
	e := newEncEnv(t)
	hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	opens := watchOpens(t, e.cfg)
	s := framework.Start(t, e.state, e.etcd.EtcdFlag(), "--encryption-provider-config="+e.cfg,
		"--encryption-provider-config-automatic-reload", "--encryption-provider-config-reload-interval=1h")
	createSecrets(t, s, "once", 3, "MARKER-once")
	requireStoredWith(t, e.etcd.Raw(t, secretsPrefix), "k8s:enc:aescbc:v1:key1:")
	st := waitMigrated(t, s, hash, 30*time.Second)
	assert.Equal(t, "k8s:enc:aescbc:v1:key1:", resourceStatus(st, secretsRes).WritePrefix)
	assert.Equal(t, 1, opens(), "the encryption configuration file is opened once")
}
