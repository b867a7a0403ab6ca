package shootlogin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

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
type Cache struct {
	Dir string
}

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

// ensureDir creates Dir mode 0700, or tightens an existing one: it holds private keys.
func (c Cache) ensureDir() error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(c.Dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm() != 0o700 {
		return os.Chmod(c.Dir, 0o700)
	}
	return nil
}

// Read returns the cached credential, or nil when there is none or it is unreadable (then the
// caller issues a new one, which replaces it).
func (c Cache) Read(k Key) *clientauthv1.ExecCredentialStatus {
	raw, err := os.ReadFile(filepath.Join(c.Dir, k.file()))
	if err != nil {
		return nil
	}
	var st clientauthv1.ExecCredentialStatus
	if json.Unmarshal(raw, &st) != nil || st.ExpirationTimestamp == nil || st.ClientCertificateData == "" {
		return nil
	}
	return &st
}

// Write replaces the cached credential atomically: readers see the old file or the new one,
// never a partial one.
func (c Cache) Write(k Key, st *clientauthv1.ExecCredentialStatus) error {
	if err := c.ensureDir(); err != nil {
		return err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, "."+k.file()+".*") // mode 0600
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

// Lock takes an exclusive flock on the key's lock file, blocking until other processes
// release it; call the returned func to release. The lock file stays: removing it would let
// two processes lock different files.
func (c Cache) Lock(k Key) (func(), error) {
	if err := c.ensureDir(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(c.Dir, k.file()+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil // closing the descriptor releases the lock
}

// Fresh says whether st can still be handed out at now: it expires more than renewBefore later.
func Fresh(st *clientauthv1.ExecCredentialStatus, now time.Time, renewBefore time.Duration) bool {
	return st != nil && st.ExpirationTimestamp != nil && now.Add(renewBefore).Before(st.ExpirationTimestamp.Time)
}
