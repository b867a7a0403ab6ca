package shootlogin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
)

// Key names one cached credential: a garden, a project namespace, a shoot and a kind.
type Key struct {
	// Garden identifies the garden and the user there (gardenID), so two gardens or two users
	// of one garden never share a certificate.
	Garden           string
	Namespace, Shoot string
	// Kind is "admin" or "viewer".
	Kind string
}

// gardenID is a short hash of the garden's server URL, the kubeconfig user entry and where that
// entry comes from (kubeconfig file and context), so entries of the same name in two files or
// contexts do not share a certificate.
func gardenID(server, user string, source ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(append([]string{server, user}, source...), "\x00")))
	return hex.EncodeToString(sum[:8])
}

func (k Key) file() string {
	return fmt.Sprintf("%s.%s.%s.%s.json", k.Garden, k.Namespace, k.Shoot, k.Kind)
}

// Cache keeps one file per Key in Dir (mode 0700), each mode 0600 and replaced atomically.
// The cache holds private keys and what it holds is handed to kubectl: it is trusted only when
// the directory and every file in it belong to the user and no one else may read or write them.
type Cache struct {
	Dir string
	// LockTimeout bounds the wait for another process's lock on a key (0: DefaultLockTimeout).
	LockTimeout time.Duration
}

// DefaultLockTimeout is the longest wait for the lock of a key.
const DefaultLockTimeout = time.Minute

// DefaultCacheDir is $XDG_CACHE_HOME/kubectl-shootlogin, or ~/.cache/kubectl-shootlogin.
func DefaultCacheDir() (string, error) {
	if dir := os.Getenv("XDG_CACHE_HOME"); dir != "" {
		return filepath.Join(dir, "kubectl-shootlogin"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set XDG_CACHE_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "kubectl-shootlogin"), nil
}

// ensureDir creates Dir (mode 0700) when it is missing and checks it: a directory, not a
// symlink, owned by the user, mode 0700. A directory that fails is an error naming it: it is
// never tightened or used, since someone else may already have planted a credential in it.
func (c Cache) ensureDir() error {
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	st, err := os.Lstat(c.Dir)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("cache directory %s is a symlink: remove it (kubectl-shootlogin recreates it)", c.Dir)
	case !st.IsDir():
		return fmt.Errorf("cache directory %s is not a directory", c.Dir)
	}
	if err := ours(st, c.Dir, "cache directory"); err != nil {
		return err
	}
	if st.Mode().Perm() != 0o700 {
		return fmt.Errorf("cache directory %s has mode %04o, want 0700: others could read or plant credentials; remove it or run chmod 700 %s",
			c.Dir, st.Mode().Perm(), c.Dir)
	}
	return nil
}

// ours checks that st belongs to the user running this program.
func ours(st fs.FileInfo, path, what string) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("cannot tell the owner of %s %s", what, path)
	}
	if uid := os.Geteuid(); int(sys.Uid) != uid {
		return fmt.Errorf("%s %s belongs to uid %d, not to you (uid %d): remove it", what, path, sys.Uid, uid)
	}
	return nil
}

// openPrivate opens a file of the cache without following a symlink and checks it: a regular
// file of the user that no one else may read or write.
func (c Cache) openPrivate(name string, flag int) (*os.File, error) {
	path := filepath.Join(c.Dir, name)
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("cache file %s is a symlink: remove it", path)
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = checkPrivateFile(st, path)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func checkPrivateFile(st fs.FileInfo, path string) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("cache file %s is not a regular file: remove it", path)
	}
	if err := ours(st, path, "cache file"); err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("cache file %s has mode %04o, want 0600: remove it", path, st.Mode().Perm())
	}
	return nil
}

// Read returns the cached credential; nil when there is none or it does not decode (then the
// caller issues a new one, which replaces it). A file that is not safely ours is an error.
// Callers check the directory first (ensureDir).
func (c Cache) Read(k Key) (*clientauthv1.ExecCredentialStatus, error) {
	f, err := c.openPrivate(k.file(), os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if st, err := f.Stat(); err == nil {
		buf.Grow(int(st.Size()) + 1)
	}
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("reading cache file %s: %w", f.Name(), err)
	}
	var st clientauthv1.ExecCredentialStatus
	if json.Unmarshal(buf.Bytes(), &st) != nil || st.ExpirationTimestamp == nil || st.ClientCertificateData == "" {
		return nil, nil
	}
	return &st, nil
}

// Write replaces the cached credential atomically: readers see the old file or the new one,
// never a partial one. The rename replaces a planted symlink itself, never its target.
func (c Cache) Write(k Key, st *clientauthv1.ExecCredentialStatus) error {
	if err := c.ensureDir(); err != nil {
		return err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, "."+k.file()+".*") // mode 0600, O_EXCL
	if err != nil {
		return err
	}
	_, err = tmp.Write(raw)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(c.Dir, k.file()))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// Lock takes an exclusive flock on the key's lock file, waiting at most LockTimeout for other
// processes to release it; call the returned func to release. The lock file stays: removing it
// would let two processes lock different files.
func (c Cache) Lock(ctx context.Context, k Key) (func(), error) {
	if err := c.ensureDir(); err != nil {
		return nil, err
	}
	f, err := c.openPrivate(k.file()+".lock", os.O_CREATE|os.O_RDWR)
	if err != nil {
		return nil, err
	}
	timeout := c.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		_ = f.Close()
		if wait.Interrupted(err) {
			return nil, fmt.Errorf("another kubectl-shootlogin has held the lock %s for more than %s: retry, or remove the lock file if no such process runs",
				f.Name(), timeout)
		}
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil // closing the descriptor releases the lock
}

// Fresh says whether st can still be handed out at now: it expires more than renewBefore later.
func Fresh(st *clientauthv1.ExecCredentialStatus, now time.Time, renewBefore time.Duration) bool {
	return st != nil && st.ExpirationTimestamp != nil && now.Add(renewBefore).Before(st.ExpirationTimestamp.Time)
}
