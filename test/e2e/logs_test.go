package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// TestNoCredentialsInLogs: after InternalSecrets and kubeconfigs went through the aggregator,
// the output of every process (both replicas, kube-apiservers, etcd) and the replicas' audit
// logs, written with the shipped policy, hold none of the secret material, while the audit
// log does record each issuance.
func TestNoCredentialsInLogs(t *testing.T) {
	const marker = "e2e-log-marker-5f1d9c"
	secret := `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":"log-check","namespace":"` +
		projectNS + `"},"stringData":{"token":"` + marker + `"}}`
	mustKubectlStdin(t, "admin", secret, "create", "-f", "-")
	mustKubectl(t, "admin", "get", "ins", "log-check", "-n", projectNS, "-o", "yaml")
	mustKubectl(t, "admin", "delete", "ins", "log-check", "-n", projectNS)

	shoot := createShoot(t, "log-shoot")
	admin, adminPath, _ := requestKubeconfig(t, shoot, "adminkubeconfig", "adminkubeconfigrequest.json")
	viewer, viewerPath, _ := requestKubeconfig(t, shoot, "viewerkubeconfig", "viewerkubeconfigrequest.json")
	caKey, err := pki.EncodeKey(env.shootClientCA.Key)
	if err != nil {
		t.Fatal(err)
	}

	forbidden := map[string]string{
		"marker":                     marker,
		"base64 of the marker":       base64.StdEncoding.EncodeToString([]byte(marker)),
		"a PEM private key":          "PRIVATE KEY",
		"base64 of the shoot CA key": base64.StdEncoding.EncodeToString(caKey)[:60],
	}
	// As returned in status.kubeconfig: base64 of the whole file (a middle part, 4-aligned).
	for name, path := range map[string]string{"admin": adminPath, "viewer": viewerPath} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		mid := len(enc) / 2 / 4 * 4
		forbidden["the issued "+name+" kubeconfig"] = enc[mid : mid+60]
	}
	for name, cfg := range map[string]*clientcmdapi.Config{"admin": admin, "viewer": viewer} {
		for _, u := range cfg.AuthInfos {
			if len(u.ClientKeyData) < 100 {
				t.Fatalf("%s kubeconfig: no client key", name)
			}
			forbidden["base64 of the issued "+name+" client key"] = base64.StdEncoding.EncodeToString(u.ClientKeyData)[:60]
			forbidden["a line of the issued "+name+" client key"] = strings.Split(string(u.ClientKeyData), "\n")[1]
		}
	}

	audit := assertLogsHoldNone(t, forbidden)
	// The audit logs record each issuance (user, shoot, serial), so the check above is not
	// passing on empty files.
	for _, cfg := range []*clientcmdapi.Config{admin, viewer} {
		serial := clientCert(t, cfg).SerialNumber.Text(16)
		if !strings.Contains(audit, serial) {
			t.Errorf("no audit event names the issued certificate serial %s", serial)
		}
	}
	for _, want := range []string{`"kubeconfig.gardener.cloud/shoot":"` + projectNS + `/` + shoot + `"`, `"username":"admin"`, `"resource":"internalsecrets"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit logs lack %s", want)
		}
	}
	t.Logf("%d bytes of audit events", len(audit))
}

// assertLogsHoldNone checks every process and audit log of the environment for each forbidden
// string and returns the audit logs' content.
func assertLogsHoldNone(t *testing.T, forbidden map[string]string) string {
	t.Helper()
	logs, _ := filepath.Glob(env.path("*.log"))
	audit := ""
	checked := 0
	for _, l := range logs {
		if filepath.Base(l) == "kubectl.log" { // the test's own client transcript
			continue
		}
		raw, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for what, s := range forbidden {
			if strings.Contains(string(raw), s) {
				t.Errorf("%s contains %s", filepath.Base(l), what)
			}
		}
		if strings.HasSuffix(l, ".audit.log") {
			audit += string(raw)
		}
	}
	if checked < 5 {
		t.Fatalf("only %d logs found in %s", checked, env.dir)
	}
	t.Logf("checked %d logs", checked)
	return audit
}
