package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startQuotaController runs kube-controller-manager's resource quota controller against the
// host kube-apiserver, as a cluster does; it finds our resources through the aggregated
// API's discovery.
func startQuotaController(t *testing.T) {
	t.Helper()
	bin := filepath.Join(env.root, "_output", "tools", "bin", "kube-controller-manager")
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("missing executable %s: run make tools", bin)
	}
	p, err := env.start("kube-controller-manager", bin,
		"--kubeconfig="+env.userKubeconfig("admin"),
		"--controllers=resourcequota-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--profiling=false",
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
}

// ResourceQuota objects of the cluster limit our resources: the (n+1)-th create through the
// aggregator is refused with Kubernetes' quota message.
func TestResourceQuotaThroughAggregator(t *testing.T) {
	startQuotaController(t)
	const ns = "garden-quota"
	mustKubectl(t, "admin", "create", "namespace", ns)
	mustKubectlStdin(t, "admin", `apiVersion: v1
kind: ResourceQuota
metadata: {name: gardener-objects, namespace: `+ns+`}
spec:
  hard:
    count/internalsecrets.core.gardener.cloud: "2"
    count/shoots.core.gardener.cloud: "1"
`, "apply", "-f", "-")

	const isKey, shootKey = "count/internalsecrets.core.gardener.cloud", "count/shoots.core.gardener.cloud"
	used := func() string {
		out, _ := kubectl("admin", "get", "resourcequota", "gardener-objects", "-n", ns, "-o", "jsonpath={.status.used}")
		return out
	}
	eventually(t, 90*time.Second, "the quota controller computes the usage of our resources", func() error {
		if u := used(); !strings.Contains(u, `"`+isKey+`":"0"`) || !strings.Contains(u, `"`+shootKey+`":"0"`) {
			return fmt.Errorf("status.used = %s", u)
		}
		return nil
	})

	secret := func(name string) string {
		return fmt.Sprintf(`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":%q,"namespace":%q},"data":{"k":"dg=="}}`, name, ns)
	}
	mustKubectlStdin(t, "admin", secret("one"), "create", "-f", "-")
	mustKubectlStdin(t, "admin", secret("two"), "create", "-f", "-")
	out, err := kubectlStdin("admin", secret("three"), "create", "-f", "-")
	if err == nil {
		t.Fatalf("the third InternalSecret was created:\n%s", out)
	}
	assertContains(t, out, "(Forbidden)", `internalsecrets.core.gardener.cloud "three" is forbidden: exceeded quota: gardener-objects, requested: `+isKey+`=1, used: `+isKey+`=2, limited: `+isKey+`=2`)

	shoot := func(name string) string {
		return fmt.Sprintf(`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"Shoot","metadata":{"name":%q,"namespace":%q},"spec":{"kubernetes":{"version":"1.34.1"}}}`, name, ns)
	}
	mustKubectlStdin(t, "admin", shoot("first"), "create", "-f", "-")
	out, err = kubectlStdin("admin", shoot("second"), "create", "-f", "-")
	if err == nil {
		t.Fatalf("the second Shoot was created:\n%s", out)
	}
	assertContains(t, out, "(Forbidden)", `exceeded quota: gardener-objects, requested: `+shootKey+`=1, used: `+shootKey+`=1, limited: `+shootKey+`=1`)

	// A delete frees the slot once the controller has recounted (it watches our resources).
	mustKubectl(t, "admin", "delete", "internalsecret", "one", "-n", ns)
	eventually(t, 90*time.Second, "the quota controller sees the delete", func() error {
		if u := used(); !strings.Contains(u, `"`+isKey+`":"1"`) {
			return fmt.Errorf("status.used = %s", u)
		}
		return nil
	})
	mustKubectlStdin(t, "admin", secret("three"), "create", "-f", "-")
}
