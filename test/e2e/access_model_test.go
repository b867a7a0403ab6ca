package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// requestAs posts a kubeconfig request as user (retrying while RBAC and the replicas' authorizer
// caches catch up) and writes the kubeconfig it returns.
func requestAs(t *testing.T, user, shoot, subresource, example string) (*clientcmdapi.Config, string) {
	t.Helper()
	var out string
	eventually(t, 20*time.Second, user+" requests shoots/"+subresource, func() error {
		var err error
		if out, err = kubectl(user, "create", "--raw", shootPath(projectNS, shoot, subresource), "-f", examplePath(example)); err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	})
	cfg, raw, _ := kubeconfigFromResponse(t, out)
	path := env.path(fmt.Sprintf("%s-%s-%s.kubeconfig", shoot, user, subresource))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

func assertSubject(t *testing.T, cfg *clientcmdapi.Config, cn, group string) {
	t.Helper()
	cert := clientCert(t, cfg)
	if cert.Subject.CommonName != cn || !slices.Equal(cert.Subject.Organization, []string{group}) {
		t.Errorf("certificate subject %v, want CN=%s O=%s", cert.Subject, cn, group)
	}
}

// TestProjectMemberGetsProjectAdmins: a member of the project (a RoleBinding in its namespace) gets
// gardener.cloud:project:admins, which artifacts/shoot-rbac makes cluster admin of the shoot.
func TestProjectMemberGetsProjectAdmins(t *testing.T) {
	shoot := createShoot(t, "e2e-project-admin")
	mustKubectl(t, "admin", "create", "rolebinding", "e2e-alice-member", "-n", projectNS,
		"--clusterrole=garden-apiserver:project-member", "--user=alice")
	t.Cleanup(func() { _, _ = kubectl("admin", "delete", "rolebinding", "e2e-alice-member", "-n", projectNS) })

	cfg, path := requestAs(t, "alice", shoot, "adminkubeconfig", "adminkubeconfigrequest.json")
	assertSubject(t, cfg, "gardener.cloud:admin:alice", "gardener.cloud:project:admins")
	if got := strings.TrimSpace(mustKubectl(t, path, "auth", "can-i", "*", "*", "--all-namespaces")); got != "yes" {
		t.Errorf("a project admin's kubeconfig: can-i '*' '*' = %q, want yes", got)
	}
	who := whoAmI(t, path)
	if who.username != "gardener.cloud:admin:alice" || !slices.Contains(who.groups, "gardener.cloud:project:admins") {
		t.Errorf("the shoot sees alice's kubeconfig as %+v", who)
	}

	vcfg, vpath := requestAs(t, "alice", shoot, "viewerkubeconfig", "viewerkubeconfigrequest.json")
	assertSubject(t, vcfg, "gardener.cloud:viewer:alice", "gardener.cloud:project:viewers")
	mustKubectl(t, vpath, "get", "namespaces")
	kubectlFails(t, vpath, []string{"get", "secrets", "-A"}, "Forbidden")
}

// TestClusterRoleBindingMakesSystemAdmin: whoever may create the subresource in all namespaces is
// a system admin (viewer); the authorization check goes through the server's SubjectAccessReviews.
func TestClusterRoleBindingMakesSystemAdmin(t *testing.T) {
	shoot := createShoot(t, "e2e-system-admin")
	kubectlFails(t, "carol", []string{"create", "--raw", shootPath(projectNS, shoot, "adminkubeconfig"), "-f",
		examplePath("adminkubeconfigrequest.json")}, "Forbidden")
	mustKubectl(t, "admin", "create", "clusterrolebinding", "e2e-carol-system-admin",
		"--clusterrole=garden-apiserver:system-admin-kubeconfigs", "--user=carol")
	t.Cleanup(func() { _, _ = kubectl("admin", "delete", "clusterrolebinding", "e2e-carol-system-admin") })

	cfg, path := requestAs(t, "carol", shoot, "adminkubeconfig", "adminkubeconfigrequest.json")
	assertSubject(t, cfg, "gardener.cloud:admin:carol", "gardener.cloud:system:admins")
	if who := whoAmI(t, path); who.username != "gardener.cloud:admin:carol" || !slices.Contains(who.groups, "gardener.cloud:system:admins") {
		t.Errorf("the shoot sees carol's kubeconfig as %+v", who)
	}
	vcfg, _ := requestAs(t, "carol", shoot, "viewerkubeconfig", "viewerkubeconfigrequest.json")
	assertSubject(t, vcfg, "gardener.cloud:viewer:carol", "gardener.cloud:system:viewers")
}

// TestKubeconfigWithoutShootBindingsIsForbidden: against a shoot that lacks artifacts/shoot-rbac an
// issued admin kubeconfig is authenticated but may do nothing: it carries no system:masters.
func TestKubeconfigWithoutShootBindingsIsForbidden(t *testing.T) {
	shoot := createShootWith(t, "e2e-bare", shootSetup{
		internalSecretCA: append(pki.EncodeCert(env.shootClusterCA.Cert), pki.EncodeCert(env.rotatedClusterCA.Cert)...),
		addresses:        []address{{"external", env.bareShootKAS.url()}},
	})
	cfg, path := requestAs(t, "admin", shoot, "adminkubeconfig", "adminkubeconfigrequest.json")
	assertSubject(t, cfg, "gardener.cloud:admin:admin", "gardener.cloud:system:admins")
	for _, args := range [][]string{
		{"get", "namespaces"},
		{"get", "pods", "-A"},
		{"get", "secrets", "-n", "kube-system"},
		{"create", "namespace", "not-allowed"},
		{"create", "clusterrolebinding", "escalate", "--clusterrole=cluster-admin", "--group=gardener.cloud:system:admins"},
	} {
		kubectlFails(t, path, args, `User "gardener.cloud:admin:admin" cannot`)
	}
	// can-i exits non-zero for "no".
	if got, _ := kubectl(path, "auth", "can-i", "get", "pods"); strings.TrimSpace(got) != "no" {
		t.Errorf("can-i get pods on a shoot without bindings = %q, want no", got)
	}
}
