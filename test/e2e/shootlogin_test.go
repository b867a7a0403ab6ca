package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// The credential plugin against the real garden (host kube-apiserver, aggregated replicas)
// and the real shoot kube-apiserver. Issuances are counted in the replicas' audit logs, which
// record every certificate serial. Only authentication on the shoot is checked (`kubectl auth
// whoami`), so the tests hold whatever subject and RBAC the issued certificates carry.

func shootloginBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(env.root, "_output", "bin", "kubectl-shootlogin")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run the suite with `make e2e` (it runs `make plugin`)", bin)
	}
	return bin
}

// shootlogin runs the plugin with $XDG_CACHE_HOME set and returns stdout and stderr.
func shootlogin(t *testing.T, cacheHome string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, shootloginBin(t), args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheHome)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// loginKubeconfig prints the plugin-backed kubeconfig of shoot as the garden's admin and
// writes it to a file.
func loginKubeconfig(t *testing.T, shoot, cacheHome string, extra ...string) string {
	t.Helper()
	args := append([]string{"kubeconfig", "--namespace", projectNS, "--shoot", shoot,
		"--garden-kubeconfig", env.userKubeconfig("admin")}, extra...)
	out, errOut, err := shootlogin(t, cacheHome, args...)
	if err != nil {
		t.Fatalf("kubectl-shootlogin %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	path := env.path(shoot + "-shootlogin.kubeconfig")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// kubectlWhoAmI runs `kubectl auth whoami` with the plugin's cache in cacheHome and returns the
// user name the shoot authenticated.
func kubectlWhoAmI(t *testing.T, kubeconfig, cacheHome string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", "--kubeconfig="+kubeconfig, "--cache-dir="+env.path("kubectl-cache"),
		"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheHome)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("kubectl auth whoami with the plugin-backed kubeconfig: %v\n%s", err, out)
	}
	return string(out)
}

// issuances counts the distinct certificates the replicas issued for the shoot (audit logs).
func issuances(t *testing.T, shoot string) int {
	t.Helper()
	serials := map[string]bool{}
	for _, r := range env.replicas {
		f, err := os.Open(env.path(r.name + ".audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev struct {
				Annotations map[string]string `json:"annotations"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Annotations["kubeconfig.gardener.cloud/shoot"] == projectNS+"/"+shoot {
				if s := ev.Annotations["kubeconfig.gardener.cloud/serial"]; s != "" {
					serials[s] = true
				}
			}
		}
		_ = f.Close()
	}
	return len(serials)
}

func assertIssuances(t *testing.T, shoot string, want int, when string) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("%s: %d issuances for shoot %s", when, want, shoot), func() error {
		if got := issuances(t, shoot); got != want {
			return fmt.Errorf("the audit logs record %d", got)
		}
		return nil
	})
}

func TestShootloginKubeconfigWithKubectl(t *testing.T) {
	shoot := createShoot(t, "login-kubectl")
	cache := t.TempDir()
	path := loginKubeconfig(t, shoot, cache)
	assertIssuances(t, shoot, 1, "after `kubectl-shootlogin kubeconfig`")

	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cluster := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]
	if cluster.Server != env.shootKAS.url() || !bytes.Equal(cluster.CertificateAuthorityData, pki.EncodeCert(env.shootClusterCA.Cert)) {
		t.Errorf("cluster %+v: want the shoot's server %s and its <shoot>.ca-cluster CA", cluster, env.shootKAS.url())
	}
	user := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	if user.Exec == nil || user.Exec.APIVersion != "client.authentication.k8s.io/v1" || len(user.ClientCertificateData) > 0 || len(user.ClientKeyData) > 0 {
		t.Fatalf("user %+v: want an exec plugin (client.authentication.k8s.io/v1) and no certificate", user)
	}

	// The certificate of the kubeconfig command is cached: the first call needs no new one.
	if name := kubectlWhoAmI(t, path, cache); !strings.Contains(name, "admin") {
		t.Errorf("the shoot authenticated %q, want the garden's admin", name)
	}
	assertIssuances(t, shoot, 1, "after kubectl with the kubeconfig command's cache")

	// An empty cache: 20 calls in a row, one issuance.
	empty := t.TempDir()
	for range 20 {
		kubectlWhoAmI(t, path, empty)
	}
	assertIssuances(t, shoot, 2, "after 20 kubectl calls on an empty cache")
	for _, p := range []string{filepath.Join(empty, "kubectl-shootlogin"), filepath.Join(cache, "kubectl-shootlogin")} {
		if st, err := os.Stat(p); err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != 0o700 {
			t.Errorf("cache directory %s has mode %v, want 0700", p, st.Mode().Perm())
		}
	}
}

func TestShootloginRenewBeforeLongerThanLifetime(t *testing.T) {
	shoot := createShoot(t, "login-renew")
	cache := t.TempDir()
	// The shortest certificate the garden grants (10m) is always within --renew-before.
	path := loginKubeconfig(t, shoot, cache, "--expiration=10m", "--renew-before=1h")
	for i := 1; i <= 3; i++ {
		kubectlWhoAmI(t, path, cache)
		assertIssuances(t, shoot, 1+i, fmt.Sprintf("after kubectl call %d", i))
	}
}

func TestShootloginConcurrentKubectlIssueOnce(t *testing.T) {
	shoot := createShoot(t, "login-concurrent")
	path := loginKubeconfig(t, shoot, t.TempDir())
	assertIssuances(t, shoot, 1, "after `kubectl-shootlogin kubeconfig`")
	empty := t.TempDir()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); kubectlWhoAmI(t, path, empty) }()
	}
	wg.Wait()
	assertIssuances(t, shoot, 2, "after two concurrent kubectl calls on an empty cache")
}

// TestShootloginErrorsAreOneLine: a user the garden forbids and a missing shoot get one line
// on stderr, nothing on stdout, and a non-zero exit, from both subcommands.
func TestShootloginErrorsAreOneLine(t *testing.T) {
	shoot := createShoot(t, "login-errors")
	for _, c := range []struct {
		name, user, shoot, want string
	}{
		{"403", "bob", shoot, "forbidden"},
		{"shoot not found", "admin", "no-such-shoot", "shoot " + projectNS + "/no-such-shoot not found"},
	} {
		for _, sub := range []string{"kubeconfig", "credential"} {
			t.Run(c.name+"/"+sub, func(t *testing.T) {
				out, errOut, err := shootlogin(t, t.TempDir(), sub, "--namespace", projectNS, "--shoot", c.shoot,
					"--garden-kubeconfig", env.userKubeconfig(c.user))
				if err == nil || out != "" {
					t.Fatalf("exit %v and stdout %q, want a failure and no output", err, out)
				}
				if lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n"); len(lines) != 1 || !strings.Contains(errOut, c.want) ||
					!strings.HasPrefix(errOut, "kubectl-shootlogin: ") {
					t.Errorf("stderr = %q, want one line kubectl-shootlogin: ...%s...", errOut, c.want)
				}
			})
		}
	}
	if n := issuances(t, shoot); n != 0 {
		t.Errorf("%d certificates issued for refused requests", n)
	}
}
