package e2e

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/test/fixture"
)

// createShoot creates a Shoot in the project namespace whose CAs are those of the shoot
// kube-apiserver, the InternalSecrets <name>.ca-client and <name>.ca-cluster, and whose external
// address is the shoot kube-apiserver's URL.
func createShoot(t *testing.T, name string) string {
	t.Helper()
	return createShootWith(t, name, shootSetup{internalSecretCA: pki.EncodeCert(env.shootClusterCA.Cert),
		addresses: []address{{"external", env.shootKAS.url()}}})
}

type address struct{ name, url string }

// shootSetup says what the InternalSecret <shoot>.ca-cluster holds (nil: not there) and what the
// shoot advertises.
type shootSetup struct {
	internalSecretCA []byte
	addresses        []address
}

func createShootWith(t *testing.T, name string, s shootSetup) string {
	t.Helper()
	caKey, err := pki.EncodeKey(env.shootClientCA.Key)
	if err != nil {
		t.Fatal(err)
	}
	secret := func(suffix string, data map[string][]byte) string {
		b, _ := json.Marshal(map[string]any{"apiVersion": "core.gardener.cloud/v1beta1", "kind": "InternalSecret",
			"metadata": map[string]string{"name": name + suffix, "namespace": projectNS}, "data": data})
		return string(b)
	}
	mustKubectlStdin(t, "admin", secret(".ca-client", map[string][]byte{"ca.crt": pki.EncodeCert(env.shootClientCA.Cert), "ca.key": caKey}), "create", "-f", "-")
	if s.internalSecretCA != nil {
		mustKubectlStdin(t, "admin", secret(".ca-cluster", map[string][]byte{"ca.crt": s.internalSecretCA}), "create", "-f", "-")
	}
	shoot := fmt.Sprintf(`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"Shoot","metadata":{"name":%q,"namespace":%q},"spec":{"kubernetes":{"version":"1.31.2"}}}`,
		name, projectNS)
	mustKubectlStdin(t, "admin", shoot, "create", "-f", "-")
	t.Cleanup(func() {
		_, _ = kubectl("admin", "annotate", "shoot", name, "-n", projectNS, "confirmation.gardener.cloud/deletion=true", "--overwrite")
		_, _ = kubectl("admin", "delete", "shoot", name, "-n", projectNS, "--ignore-not-found")
		_, _ = kubectl("admin", "delete", "ins", name+".ca-client", name+".ca-cluster", "-n", projectNS, "--ignore-not-found")
	})
	addrs := []map[string]string{}
	for _, a := range s.addresses {
		addrs = append(addrs, map[string]string{"name": a.name, "url": a.url})
	}
	addrs = append(addrs, map[string]string{"name": "service-account-issuer", "url": "https://issuer.example.com"})
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{"advertisedAddresses": addrs}})
	mustKubectl(t, "admin", "patch", "shoot", name, "-n", projectNS, "--subresource=status", "--type=merge", "-p", string(patch))
	return name
}

func authInfoToken(user string) *clientcmdapi.AuthInfo {
	return &clientcmdapi.AuthInfo{Token: users[user].token}
}

// clientCert returns the client certificate of the kubeconfig's current context.
func clientCert(t *testing.T, cfg *clientcmdapi.Config) *x509.Certificate {
	t.Helper()
	c, err := fixture.ClientCert(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requestKubeconfig posts the example request of artifacts/examples to the subresource as admin
// and writes the kubeconfig it returns.
func requestKubeconfig(t *testing.T, shoot, subresource, example string) (*clientcmdapi.Config, string, time.Time) {
	t.Helper()
	out := mustKubectl(t, "admin", "create", "--raw", shootPath(projectNS, shoot, subresource), "-f", examplePath(example))
	cfg, raw, expires := kubeconfigFromResponse(t, out)
	path := env.path(shoot + "-" + subresource + ".kubeconfig")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, path, expires
}

func TestAdminKubeconfigIsClusterAdminOfTheShoot(t *testing.T) {
	shoot := createShoot(t, "e2e-admin")
	before := time.Now()
	cfg, path, expires := requestKubeconfig(t, shoot, "adminkubeconfig", "adminkubeconfigrequest.json")

	wantContext := projectNS + "--" + shoot + "-external"
	if cfg.CurrentContext != wantContext || len(cfg.Clusters) != 1 {
		t.Errorf("kubeconfig: current context %q and %d clusters, want %q only (service-account-issuer is skipped)",
			cfg.CurrentContext, len(cfg.Clusters), wantContext)
	}
	if c := cfg.Clusters[wantContext]; c == nil || c.Server != env.shootKAS.url() || string(c.CertificateAuthorityData) != string(pki.EncodeCert(env.shootClusterCA.Cert)) {
		t.Errorf("kubeconfig cluster %q = %+v, want server %s with the <shoot>.ca-cluster CA", wantContext, c, env.shootKAS.url())
	}
	cert := clientCert(t, cfg)
	// admin is system:masters in the garden, so may issue in all namespaces: a system admin.
	if cert.Subject.CommonName != "gardener.cloud:admin:admin" || !slices.Equal(cert.Subject.Organization, []string{"gardener.cloud:system:admins"}) {
		t.Errorf("client certificate subject = %v, want CN=gardener.cloud:admin:admin O=gardener.cloud:system:admins", cert.Subject)
	}
	if d := cert.NotAfter.Sub(before); d < 590*time.Second || d > 620*time.Second {
		t.Errorf("client certificate valid for %s, want the requested 600s", d)
	}
	if d := expires.Sub(cert.NotAfter); d < -time.Second || d > time.Second {
		t.Errorf("status.expirationTimestamp %s differs from the certificate's NotAfter %s", expires, cert.NotAfter)
	}

	// The shoot kube-apiserver trusts the kubeconfig: cluster admin through artifacts/shoot-rbac.
	out := mustKubectl(t, path, "get", "namespaces")
	assertContains(t, out, "default", "kube-system")
	if got := strings.TrimSpace(mustKubectl(t, path, "auth", "can-i", "*", "*", "--all-namespaces")); got != "yes" {
		t.Errorf("kubectl auth can-i '*' '*' with the admin kubeconfig = %q, want yes", got)
	}
	whoami := whoAmI(t, path)
	if whoami.username != "gardener.cloud:admin:admin" || !slices.Contains(whoami.groups, "gardener.cloud:system:admins") || slices.Contains(whoami.groups, "system:masters") {
		t.Errorf("the shoot sees the admin kubeconfig as %+v, want gardener.cloud:admin:admin in gardener.cloud:system:admins, not system:masters", whoami)
	}
}

// assertReplicasWereNeverForbidden checks the replicas' logs: they run with the service account
// of artifacts/deploy, so a "forbidden" there is RBAC that rbac-server.yaml lacks (informers of
// namespaces, webhooks, policies and flow control retry and log, they do not fail requests).
func assertReplicasWereNeverForbidden(t *testing.T) {
	t.Helper()
	for _, r := range env.replicas {
		log, err := os.ReadFile(r.proc.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(log), "\n") {
			if strings.Contains(strings.ToLower(line), "forbidden") {
				t.Errorf("%s was denied something by the cluster; artifacts/deploy/rbac-server.yaml lacks RBAC:\n%s", r.name, line)
			}
		}
	}
}

func TestViewerKubeconfigIsAViewer(t *testing.T) {
	shoot := createShoot(t, "e2e-viewer")
	cfg, path, _ := requestKubeconfig(t, shoot, "viewerkubeconfig", "viewerkubeconfigrequest.json")
	if cert := clientCert(t, cfg); !slices.Equal(cert.Subject.Organization, []string{"gardener.cloud:system:viewers"}) {
		t.Errorf("viewer certificate organizations = %v", cert.Subject.Organization)
	}
	whoami := whoAmI(t, path)
	if whoami.username != "gardener.cloud:viewer:admin" || !slices.Contains(whoami.groups, "gardener.cloud:system:viewers") || slices.Contains(whoami.groups, "system:masters") {
		t.Errorf("the shoot sees the viewer kubeconfig as %+v, want gardener.cloud:viewer:admin in gardener.cloud:system:viewers and not system:masters", whoami)
	}
	// artifacts/shoot-rbac: viewers read everything but Secrets, and write nothing.
	assertContains(t, mustKubectl(t, path, "get", "namespaces"), "kube-system")
	mustKubectl(t, path, "get", "configmaps", "-A")
	kubectlFails(t, path, []string{"get", "secrets", "-A"}, "Forbidden")
	kubectlFails(t, path, []string{"get", "secrets", "-n", "kube-system", "any"}, "Forbidden")
	kubectlFails(t, path, []string{"create", "namespace", "viewer-cannot"}, "Forbidden")
}

type identity struct {
	username string
	groups   []string
}

func whoAmI(t *testing.T, kubeconfig string) identity {
	t.Helper()
	out := mustKubectl(t, kubeconfig, "auth", "whoami", "-o", "json")
	var review struct {
		Status struct {
			UserInfo struct {
				Username string   `json:"username"`
				Groups   []string `json:"groups"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &review); err != nil {
		t.Fatalf("kubectl auth whoami -o json: %v\n%s", err, out)
	}
	return identity{review.Status.UserInfo.Username, review.Status.UserInfo.Groups}
}

// TestExpiredAndForeignKubeconfigsAreRejected takes an issued admin kubeconfig and swaps its
// client certificate: signed by the shoot's client CA but expired, or signed by another CA.
// Both are rejected with 401; the same swap with a valid certificate of the right CA works.
func TestExpiredAndForeignKubeconfigsAreRejected(t *testing.T) {
	shoot := createShoot(t, "e2e-expired")
	cfg, _, _ := requestKubeconfig(t, shoot, "adminkubeconfig", "adminkubeconfigrequest.json")
	foreignCA, err := pki.NewCA("foreign-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, c := range []struct {
		name                string
		ca                  *pki.CA
		notBefore, notAfter time.Time
		want                int
	}{
		{"valid certificate of the shoot's client CA", env.shootClientCA, now.Add(-time.Minute), now.Add(time.Hour), http.StatusOK},
		{"expired certificate of the shoot's client CA", env.shootClientCA, now.Add(-2 * time.Hour), now.Add(-time.Hour), http.StatusUnauthorized},
		{"certificate of a foreign CA", foreignCA, now.Add(-time.Minute), now.Add(time.Hour), http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			certPEM, keyPEM := signClientCert(t, c.ca, c.notBefore, c.notAfter)
			swapped := cfg.DeepCopy()
			user := swapped.AuthInfos[swapped.Contexts[swapped.CurrentContext].AuthInfo]
			user.ClientCertificateData, user.ClientKeyData = certPEM, keyPEM
			path := env.path(fmt.Sprintf("%s-%d.kubeconfig", shoot, c.want))
			if err := clientcmd.WriteToFile(*swapped, path); err != nil {
				t.Fatal(err)
			}

			restCfg, err := clientcmd.BuildConfigFromFlags("", path)
			if err != nil {
				t.Fatal(err)
			}
			hc, err := rest.HTTPClientFor(restCfg)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Get(restCfg.Host + "/api/v1/namespaces")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("GET /api/v1/namespaces on the shoot = %d, want %d", resp.StatusCode, c.want)
			}
			if c.want == http.StatusOK {
				mustKubectl(t, path, "get", "namespaces")
			} else {
				kubectlFails(t, path, []string{"get", "namespaces"}, "Unauthorized")
			}
		})
	}
}

// signClientCert signs a client certificate CN=admin O=system:masters with explicit validity.
func signClientCert(t *testing.T, ca *pki.CA, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := harnessCertValid(ca, pki.Leaf{CommonName: "admin", Organizations: []string{"system:masters"}, NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}
