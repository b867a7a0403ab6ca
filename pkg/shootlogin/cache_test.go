package shootlogin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
)

var testKey = Key{Garden: gardenID("https://garden.example.com", "alice"), Namespace: "garden-dev", Shoot: "my-shoot", Kind: "admin"}

func credentialUntil(t time.Time, cert string) *clientauthv1.ExecCredentialStatus {
	return &clientauthv1.ExecCredentialStatus{ExpirationTimestamp: &metav1.Time{Time: t},
		ClientCertificateData: cert, ClientKeyData: "key of " + cert}
}

func TestFresh(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name        string
		st          *clientauthv1.ExecCredentialStatus
		renewBefore time.Duration
		want        bool
	}{
		{"none cached", nil, 10 * time.Minute, false},
		{"expires in 1h, renew 10m before", credentialUntil(now.Add(time.Hour), "c"), 10 * time.Minute, true},
		{"expires in 10m01s", credentialUntil(now.Add(10*time.Minute+time.Second), "c"), 10 * time.Minute, true},
		{"expires in exactly 10m", credentialUntil(now.Add(10*time.Minute), "c"), 10 * time.Minute, false},
		{"expires in 5m", credentialUntil(now.Add(5*time.Minute), "c"), 10 * time.Minute, false},
		{"expired", credentialUntil(now.Add(-time.Second), "c"), 0, false},
		{"renew-before 0, 1s left", credentialUntil(now.Add(time.Second), "c"), 0, true},
		{"renew-before longer than the lifetime", credentialUntil(now.Add(time.Hour), "c"), 2 * time.Hour, false},
	} {
		if got := Fresh(c.st, now, c.renewBefore); got != c.want {
			t.Errorf("%s: Fresh = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCacheFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache", "kubectl-shootlogin")
	c := Cache{Dir: dir}
	if err := c.Write(testKey, credentialUntil(time.Now().Add(time.Hour), "cert")); err != nil {
		t.Fatal(err)
	}
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, testKey.file()), 0o600)
	unlock, err := c.Lock(context.Background(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	assertMode(t, filepath.Join(dir, testKey.file()+".lock"), 0o600)
}

// cacheDir is a cache directory path that does not exist yet (t.TempDir itself is 0755).
func cacheDir(t *testing.T) string { return filepath.Join(t.TempDir(), "kubectl-shootlogin") }

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if dir, _ := DefaultCacheDir(); dir != "/xdg/kubectl-shootlogin" {
		t.Errorf("with XDG_CACHE_HOME: %s", dir)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/alice")
	if dir, _ := DefaultCacheDir(); dir != "/home/alice/.cache/kubectl-shootlogin" {
		t.Errorf("without XDG_CACHE_HOME: %s", dir)
	}
}

// TestCacheWriteIsAtomic: while one goroutine keeps replacing the entry with large ones,
// readers always decode a complete entry, and no temporary file is left behind.
func TestCacheWriteIsAtomic(t *testing.T) {
	c := Cache{Dir: cacheDir(t)}
	big := strings.Repeat("x", 1<<20)
	if err := c.Write(testKey, credentialUntil(time.Now().Add(time.Hour), "0"+big)); err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		for i := 1; i <= 30; i++ {
			if err := c.Write(testKey, credentialUntil(time.Now().Add(time.Hour), fmt.Sprint(i%10)+big)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reads := 0
	for !done.Load() {
		st, err := c.Read(testKey)
		if err != nil || st == nil || len(st.ClientCertificateData) != 1+len(big) || st.ClientKeyData != "key of "+st.ClientCertificateData {
			t.Fatal("a reader saw a missing or partial cache entry")
		}
		reads++
	}
	wg.Wait()
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != testKey.file() {
		t.Errorf("cache directory holds %v, want only %s", entries, testKey.file())
	}
	t.Logf("%d reads during 30 writes", reads)
}

func TestCacheReadIgnoresGarbage(t *testing.T) {
	c := Cache{Dir: cacheDir(t)}
	if err := c.ensureDir(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, testKey.file()), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Read(testKey); err != nil || st != nil {
		t.Errorf("Read of a corrupt entry = %+v, want nil (issue a new one)", st)
	}
}

func TestCredentialIssuesOnlyWhenNeeded(t *testing.T) {
	c := Cache{Dir: cacheDir(t)}
	now := time.Now()
	clock := func() time.Time { return now }
	issued := 0
	issue := func(context.Context) (*clientauthv1.ExecCredentialStatus, error) {
		issued++
		return credentialUntil(now.Add(time.Hour), fmt.Sprint("cert-", issued)), nil
	}
	get := func(renewBefore time.Duration) string {
		t.Helper()
		st, err := c.Credential(context.Background(), testKey, clock, renewBefore, issue)
		if err != nil {
			t.Fatal(err)
		}
		return st.ClientCertificateData
	}
	if got := get(10 * time.Minute); got != "cert-1" || issued != 1 {
		t.Fatalf("empty cache: got %s after %d issuances", got, issued)
	}
	for range 5 {
		get(10 * time.Minute)
	}
	if issued != 1 {
		t.Errorf("a fresh cached certificate was replaced: %d issuances", issued)
	}
	now = now.Add(51 * time.Minute) // 9 minutes left
	if got := get(10 * time.Minute); got != "cert-2" {
		t.Errorf("9 minutes before expiry with --renew-before=10m: got %s, want a new certificate", got)
	}
	if got := get(2 * time.Hour); got != "cert-3" {
		t.Errorf("--renew-before longer than the lifetime: got %s, want a new certificate", got)
	}
}

// TestCredentialLockAcrossProcesses starts four processes on an empty cache at once; the
// issuance (which lasts until every process has asked for the credential) happens in exactly
// one of them, the others read its result.
func TestCredentialLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "issued.log")
	var wg sync.WaitGroup
	outs := make([]string, 4)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCredentialProcess$")
			cmd.Env = append(os.Environ(), "SHOOTLOGIN_HELPER_CACHE="+filepath.Join(dir, "cache"), "SHOOTLOGIN_HELPER_LOG="+log,
				"SHOOTLOGIN_HELPER_ASKED="+filepath.Join(dir, "asked.log"), fmt.Sprintf("SHOOTLOGIN_HELPER_PROCESSES=%d", len(outs)))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("helper process: %v\n%s", err, out)
			}
			outs[i] = string(out)
		}()
	}
	wg.Wait()
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 1 {
		t.Errorf("%d processes issued a certificate, want 1:\n%s", n, raw)
	}
	for _, out := range outs {
		if !strings.Contains(out, "cert-from-pid-") {
			t.Errorf("a process did not get the certificate:\n%s", out)
		}
	}
}

// TestHelperCredentialProcess is one process of TestCredentialLockAcrossProcesses.
func TestHelperCredentialProcess(t *testing.T) {
	dir := os.Getenv("SHOOTLOGIN_HELPER_CACHE")
	if dir == "" {
		t.Skip("run by TestCredentialLockAcrossProcesses")
	}
	asked, err := os.OpenFile(os.Getenv("SHOOTLOGIN_HELPER_ASKED"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(asked, os.Getpid())
	_ = asked.Close()
	issue := func(ctx context.Context) (*clientauthv1.ExecCredentialStatus, error) {
		f, err := os.OpenFile(os.Getenv("SHOOTLOGIN_HELPER_LOG"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fmt.Fprintln(f, os.Getpid())
		// A slow garden: answer only once every process has asked, so the others contend for the lock.
		want := os.Getenv("SHOOTLOGIN_HELPER_PROCESSES")
		if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			raw, err := os.ReadFile(os.Getenv("SHOOTLOGIN_HELPER_ASKED"))
			return err == nil && fmt.Sprint(strings.Count(string(raw), "\n")) == want, nil
		}); err != nil {
			return nil, fmt.Errorf("not every process asked: %w", err)
		}
		return credentialUntil(time.Now().Add(time.Hour), fmt.Sprint("cert-from-pid-", os.Getpid())), nil
	}
	st, err := Cache{Dir: dir}.Credential(context.Background(), testKey, time.Now, 10*time.Minute, issue)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(st)
}

func TestGardenIDSeparatesSources(t *testing.T) {
	a := gardenID("https://garden.example.com", "garden", "/home/a/.kube/config", "ctx")
	if b := gardenID("https://garden.example.com", "garden", "/home/a/other.kubeconfig", "ctx"); a == b {
		t.Error("the same user entry name in two kubeconfig files shares a cache key")
	}
	if b := gardenID("https://garden.example.com", "garden", "/home/a/.kube/config", "other"); a == b {
		t.Error("the same user entry name in two contexts shares a cache key")
	}
	if b := gardenID("https://garden.example.com", "garden", "/home/a/.kube/config", "ctx"); a != b {
		t.Error("the key is not stable")
	}
}
