package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// The cluster CA sources (--shoot-cluster-ca-sources): what the default server trusts, the
// rotation an operator runs with it, and Gardener's order on a server configured for it.

func caFile(t *testing.T, name string, pem []byte) string {
	t.Helper()
	path := env.path(name)
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// plantCA creates the ConfigMap and the Secret <shoot>.ca-cluster holding caPEM, as user.
func plantCA(t *testing.T, user, shoot string, caPEM []byte) {
	t.Helper()
	path := caFile(t, shoot+"-planted.crt", caPEM)
	mustKubectl(t, user, "create", "configmap", shoot+".ca-cluster", "-n", projectNS, "--from-file=ca.crt="+path)
	mustKubectl(t, user, "create", "secret", "generic", shoot+".ca-cluster", "-n", projectNS, "--from-file=ca.crt="+path)
	t.Cleanup(func() {
		_, _ = kubectl("admin", "delete", "configmap,secret", shoot+".ca-cluster", "-n", projectNS, "--ignore-not-found")
	})
}

func clusterCAs(cfg *clientcmdapi.Config) map[string]string {
	cas := map[string]string{}
	for name, c := range cfg.Clusters {
		cas[name] = string(c.CertificateAuthorityData)
	}
	return cas
}

// TestProjectMemberCannotPlantAClusterCA: alice may write ConfigMaps and Secrets in the project
// namespace, as edit allows; her <shoot>.ca-cluster ConfigMap and Secret change nothing in
// what the default server's kubeconfigs trust (admin, viewer, system admin).
func TestProjectMemberCannotPlantAClusterCA(t *testing.T) {
	shoot := createShoot(t, "e2e-planted")
	// What edit (and Gardener's project-member role) grants on these objects. edit itself is an
	// aggregated role whose rules only kube-controller-manager's aggregation controller fills in.
	mustKubectl(t, "admin", "create", "role", "e2e-alice-writes", "-n", projectNS,
		"--verb=get,list,create,update,delete", "--resource=configmaps,secrets")
	mustKubectl(t, "admin", "create", "rolebinding", "e2e-alice-writes", "-n", projectNS, "--role=e2e-alice-writes", "--user=alice")
	mustKubectl(t, "admin", "create", "rolebinding", "e2e-alice-member", "-n", projectNS,
		"--clusterrole=garden-apiserver:project-member", "--user=alice")
	t.Cleanup(func() {
		_, _ = kubectl("admin", "delete", "rolebinding,role", "e2e-alice-writes", "-n", projectNS)
		_, _ = kubectl("admin", "delete", "rolebinding", "e2e-alice-member", "-n", projectNS)
	})
	attacker, err := pki.NewCA("e2e-attacker-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "alice may create configmaps", func() error {
		if out, err := kubectl("alice", "auth", "can-i", "create", "configmaps", "-n", projectNS); strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("can-i: %q: %w", out, err)
		}
		return nil
	})
	plantCA(t, "alice", shoot, pki.EncodeCert(attacker.Cert))
	// She cannot touch the InternalSecret.
	kubectlFails(t, "alice", []string{"delete", "ins", shoot + ".ca-cluster", "-n", projectNS}, "Forbidden")

	want := string(pki.EncodeCert(env.shootClusterCA.Cert))
	for _, r := range []struct{ user, sub, example string }{
		{"alice", "adminkubeconfig", "adminkubeconfigrequest.json"},
		{"alice", "viewerkubeconfig", "viewerkubeconfigrequest.json"},
		{"admin", "adminkubeconfig", "adminkubeconfigrequest.json"},
	} {
		cfg, path := requestAs(t, r.user, shoot, r.sub, r.example)
		for name, ca := range clusterCAs(cfg) {
			if ca != want {
				t.Errorf("%s's %s: cluster %s trusts something else than the InternalSecret's CA", r.user, r.sub, name)
			}
		}
		mustKubectl(t, path, "auth", "whoami")
	}
	assertReplicasWereNeverForbidden(t)
}

// putClusterCA creates or replaces the InternalSecret <shoot>.ca-cluster, as an operator would.
func putClusterCA(t *testing.T, shoot string, caPEM []byte) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"apiVersion": "core.gardener.cloud/v1beta1", "kind": "InternalSecret",
		"metadata": map[string]string{"name": shoot + ".ca-cluster", "namespace": projectNS},
		"data":     map[string]string{"ca.crt": base64.StdEncoding.EncodeToString(caPEM)}})
	mustKubectlStdin(t, "admin", string(b), "apply", "-f", "-")
}

// TestClusterCARotation runs the operator's rotation of docs/shoot-access.md with the default
// source: the InternalSecret holds the old CA, then old and new, then the new one only. The shoot
// kube-apiserver serves with the old CA, the bare one with the new CA.
func TestClusterCARotation(t *testing.T) {
	oldCA, newCA := pki.EncodeCert(env.shootClusterCA.Cert), pki.EncodeCert(env.rotatedClusterCA.Cert)
	shoot := createShootWith(t, "e2e-rotation", shootSetup{internalSecretCA: oldCA,
		addresses: []address{{"external", env.shootKAS.url()}, {"internal", env.bareShootKAS.url()}}})
	external, internal := projectNS+"--"+shoot+"-external", projectNS+"--"+shoot+"-internal"
	// A project member's ConfigMap with the new CA alone does not take part.
	plantCA(t, "admin", shoot, newCA)

	step := func(name string, bundle []byte, externalWorks, internalWorks bool) {
		t.Helper()
		cfg, path := requestAs(t, "admin", shoot, "adminkubeconfig", "adminkubeconfigrequest.json")
		for cluster, ca := range clusterCAs(cfg) {
			if ca != string(bundle) {
				t.Fatalf("%s: cluster %s does not carry the InternalSecret's bundle", name, cluster)
			}
		}
		for _, c := range []struct {
			context string
			works   bool
		}{{external, externalWorks}, {internal, internalWorks}} {
			out, err := kubectl(path, "--context", c.context, "auth", "whoami")
			switch {
			case c.works && err != nil:
				t.Errorf("%s: %s: %v\n%s", name, c.context, err, out)
			case c.works:
				assertContains(t, out, "gardener.cloud:admin:admin")
			case err == nil || !strings.Contains(out, "certificate signed by unknown authority"):
				t.Errorf("%s: %s should fail TLS verification, got %v\n%s", name, c.context, err, out)
			}
		}
	}
	step("old CA", oldCA, true, false)
	bundle := append(append([]byte{}, oldCA...), newCA...)
	putClusterCA(t, shoot, bundle)
	step("old and new CA", bundle, true, true)
	putClusterCA(t, shoot, newCA)
	step("new CA only", newCA, false, true)
}

// gardenerOrderServer starts a third server on the shared etcd, as the deployment's service
// account, with --shoot-cluster-ca-sources=configmap,secret; it returns a kubeconfig for it as
// admin. Without artifacts/cluster-ca-sources it refuses to start, naming the missing RBAC.
func gardenerOrderServer(t *testing.T) string {
	t.Helper()
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, a := range env.replicas[0].args {
		switch {
		case strings.HasPrefix(a, "--secure-port="):
			a = fmt.Sprintf("--secure-port=%d", port)
		case strings.HasPrefix(a, "--state-dir="):
			a = "--state-dir=" + env.path("state-gardener-order")
		case strings.HasPrefix(a, "--audit-log-path="):
			a = "--audit-log-path=" + env.path("garden-apiserver-gardener-order.audit.log")
		}
		args = append(args, a)
	}
	args = append(args, "--shoot-cluster-ca-sources=configmap,secret")

	p, err := env.start("garden-apiserver-gardener-order-norbac", env.bins.gardenAPI, args...)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the server without RBAC for its sources to exit", p.Exited)
	assertContains(t, readFile(t, p.LogPath), "--shoot-cluster-ca-sources includes configmap", "may not get configmaps",
		"artifacts/cluster-ca-sources")

	sources := filepath.Join(env.root, "artifacts", "cluster-ca-sources")
	mustKubectl(t, "admin", "apply", "-k", sources)
	t.Cleanup(func() { _, _ = kubectl("admin", "delete", "-k", sources, "--ignore-not-found") })
	eventually(t, 20*time.Second, "the service account may get configmaps and secrets", func() error {
		for _, res := range []string{"configmaps", "secrets"} {
			out, _ := kubectl("admin", "auth", "can-i", "get", res, "-A", "--as=system:serviceaccount:"+deployNamespace+":"+serviceName)
			if strings.TrimSpace(out) != "yes" {
				return fmt.Errorf("get %s: %q", res, out)
			}
		}
		return nil
	})
	r := &replica{name: "garden-apiserver-gardener-order", port: port, args: args}
	if err := env.startReplica(r); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.proc.Stop)
	path := env.path("gardener-order-admin.kubeconfig")
	if err := writeKubeconfig(path, "https://"+r.addr(), pki.EncodeCert(env.servingCA.Cert), authInfoToken("admin")); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestClusterCASourcesInGardenersOrder: a server with configmap,secret takes the ConfigMap, then the
// Secret, never the InternalSecret; an empty ConfigMap or a Secret without a CA certificate is an
// error naming the object, not a reason to try the next source.
func TestClusterCASourcesInGardenersOrder(t *testing.T) {
	kc := gardenerOrderServer(t)
	cmCA, err := pki.NewCA("e2e-configmap-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	shoot := createShoot(t, "e2e-gardener-order")
	cm, secret := shoot+".ca-cluster", shoot+".ca-cluster" // the same name, two kinds
	request := func() (string, error) {
		return kubectl(kc, "create", "--raw", shootPath(projectNS, shoot, "adminkubeconfig"), "-f", examplePath("adminkubeconfigrequest.json"))
	}
	ca := func() []byte {
		t.Helper()
		out, err := request()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		cfg, _, _ := kubeconfigFromResponse(t, out)
		return cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].CertificateAuthorityData
	}

	// Only the InternalSecret exists: not a source of this server.
	out, err := request()
	if err == nil || !strings.Contains(out, "no cluster CA for the shoot: no ConfigMap or Secret "+projectNS+"/"+cm) {
		t.Errorf("without ConfigMap and Secret: %v\n%s", err, out)
	}

	secretCA := caFile(t, shoot+"-secret.crt", pki.EncodeCert(env.rotatedClusterCA.Cert))
	mustKubectl(t, "admin", "create", "secret", "generic", secret, "-n", projectNS, "--from-file=ca.crt="+secretCA)
	t.Cleanup(func() {
		_, _ = kubectl("admin", "delete", "configmap,secret", cm, "-n", projectNS, "--ignore-not-found")
	})
	if got := ca(); string(got) != string(pki.EncodeCert(env.rotatedClusterCA.Cert)) {
		t.Errorf("with a Secret only: the kubeconfig does not trust the Secret's CA")
	}
	mustKubectl(t, "admin", "create", "configmap", cm, "-n", projectNS, "--from-file=ca.crt="+caFile(t, shoot+"-cm.crt", pki.EncodeCert(cmCA.Cert)))
	if got := ca(); string(got) != string(pki.EncodeCert(cmCA.Cert)) {
		t.Errorf("with ConfigMap and Secret: the kubeconfig does not trust the ConfigMap's CA")
	}

	// An empty ConfigMap does not fall through to the Secret.
	mustKubectl(t, "admin", "patch", "configmap", cm, "-n", projectNS, "--type=merge", "-p", `{"data":{"ca.crt":""}}`)
	out, err = request()
	if err == nil || !strings.Contains(out, "cannot use the cluster CA in ConfigMap "+projectNS+"/"+cm+": ca.crt is missing or empty") {
		t.Errorf("an empty ConfigMap: want an error naming it, got %v\n%s", err, out)
	}
	// A leaf certificate in the Secret is no CA.
	mustKubectl(t, "admin", "delete", "configmap", cm, "-n", projectNS)
	leaf := caFile(t, shoot+"-leaf.crt", readFileBytes(t, env.path("shoot-serving.crt")))
	mustKubectl(t, "admin", "delete", "secret", secret, "-n", projectNS)
	mustKubectl(t, "admin", "create", "secret", "generic", secret, "-n", projectNS, "--from-file=ca.crt="+leaf)
	out, err = request()
	if err == nil || !strings.Contains(out, "cannot use the cluster CA in Secret "+projectNS+"/"+secret+": certificate 1 of ca.crt is not a CA certificate") {
		t.Errorf("a Secret holding a leaf: want an error naming it, got %v\n%s", err, out)
	}
	if strings.Contains(out, "BEGIN") {
		t.Errorf("the error carries the object's contents:\n%s", out)
	}
}

func readFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
