package shootlogin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
)

// otherUID owns what "someone else" planted in the tests that need root to chown.
const otherUID = 4242

// plantedCache is a cache directory holding a fresh credential for testKey that this program did
// not write.
func plantedCache(t *testing.T) Cache {
	t.Helper()
	c := Cache{Dir: filepath.Join(t.TempDir(), "kubectl-shootlogin")}
	require.NoError(t, c.Write(testKey, credentialUntil(time.Now().Add(time.Hour), "planted")))
	return c
}

// assertRefused: Credential fails with a one-line error containing want, serves nothing and
// issues nothing.
func assertRefused(t *testing.T, c Cache, want string) {
	t.Helper()
	issued := false
	issue := func(context.Context) (*clientauthv1.ExecCredentialStatus, error) {
		issued = true
		return credentialUntil(time.Now().Add(time.Hour), "new"), nil
	}
	st, err := c.Credential(context.Background(), testKey, time.Now, 10*time.Minute, issue)
	require.Error(t, err)
	assert.Nil(t, st, "a credential was served")
	assert.False(t, issued, "a credential was issued into an untrusted cache")
	assert.Contains(t, err.Error(), want)
	assert.NotContains(t, err.Error(), "\n")
}

func TestCacheRefusesAGroupWritableDirectory(t *testing.T) {
	for _, mode := range []os.FileMode{0o770, 0o777, 0o755, 0o701} {
		c := plantedCache(t)
		require.NoError(t, os.Chmod(c.Dir, mode))
		assertRefused(t, c, fmt.Sprintf("cache directory %s has mode %04o, want 0700", c.Dir, mode))
		// Nothing was tightened behind the user's back.
		assertMode(t, c.Dir, mode)
	}
}

func TestCacheRefusesADirectoryOfAnotherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the directory to another uid")
	}
	c := plantedCache(t)
	require.NoError(t, os.Chown(c.Dir, otherUID, otherUID))
	assertRefused(t, c, "cache directory "+c.Dir+" belongs to uid 4242, not to you (uid 0)")
}

func TestCacheRefusesASymlinkedDirectory(t *testing.T) {
	c := plantedCache(t)
	link := filepath.Join(t.TempDir(), "kubectl-shootlogin")
	require.NoError(t, os.Symlink(c.Dir, link))
	assertRefused(t, Cache{Dir: link}, "cache directory "+link+" is a symlink")
}

func TestCacheRefusesASymlinkedFile(t *testing.T) {
	elsewhere := plantedCache(t)
	c := Cache{Dir: filepath.Join(t.TempDir(), "kubectl-shootlogin")}
	require.NoError(t, c.ensureDir())
	file := filepath.Join(c.Dir, testKey.file())
	require.NoError(t, os.Symlink(filepath.Join(elsewhere.Dir, testKey.file()), file))
	assertRefused(t, c, "cache file "+file+" is a symlink")

	// The lock file too: flock on a planted symlink would create or lock a file elsewhere.
	require.NoError(t, os.Remove(file))
	target := filepath.Join(t.TempDir(), "target")
	require.NoError(t, os.Symlink(target, filepath.Join(c.Dir, testKey.file()+".lock")))
	assertRefused(t, c, "is a symlink")
	_, err := os.Lstat(target)
	assert.True(t, errors.Is(err, os.ErrNotExist), "the lock followed the symlink and created %s", target)
}

func TestCacheRefusesALooseOrForeignFile(t *testing.T) {
	c := plantedCache(t)
	file := filepath.Join(c.Dir, testKey.file())
	require.NoError(t, os.Chmod(file, 0o644))
	assertRefused(t, c, "cache file "+file+" has mode 0644, want 0600")

	if os.Geteuid() != 0 {
		t.Skip("needs root to give the file to another uid")
	}
	require.NoError(t, os.Chmod(file, 0o600))
	require.NoError(t, os.Chown(file, otherUID, otherUID))
	assertRefused(t, c, "cache file "+file+" belongs to uid 4242")
}

// TestCacheLockTimesOut: a lock held by someone else (another open file description, as another
// process has) makes Lock give up after LockTimeout with an error naming the lock file.
func TestCacheLockTimesOut(t *testing.T) {
	c := Cache{Dir: cacheDir(t), LockTimeout: 300 * time.Millisecond}
	unlock, err := c.Lock(context.Background(), testKey)
	require.NoError(t, err)
	defer unlock()

	start := time.Now()
	_, err = c.Lock(context.Background(), testKey)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "held the lock "+filepath.Join(c.Dir, testKey.file()+".lock")+" for more than 300ms")
	assert.Less(t, time.Since(start), 10*time.Second, "the wait is bounded by LockTimeout")

	_, err = c.Credential(context.Background(), testKey, time.Now, 0, func(context.Context) (*clientauthv1.ExecCredentialStatus, error) {
		return nil, errors.New("must not issue without the lock")
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "held the lock")

	unlock()
	unlock2, err := c.Lock(context.Background(), testKey)
	require.NoError(t, err, "the lock is free again")
	unlock2()
}
