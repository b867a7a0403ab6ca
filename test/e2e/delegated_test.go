package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

func examplePath(name string) string { return filepath.Join(env.root, "artifacts", "examples", name) }

func TestAPIServiceIsAvailable(t *testing.T) {
	cond := mustKubectl(t, "admin", "get", "apiservice", apiServiceName,
		"-o", `jsonpath={.status.conditions[?(@.type=="Available")].status}`)
	if cond != "True" {
		t.Errorf("APIService %s Available = %q, want True", apiServiceName, cond)
	}
	// Verified TLS: the caBundle is the serving CA, never insecureSkipTLSVerify.
	spec := mustKubectl(t, "admin", "get", "apiservice", apiServiceName, "-o", "jsonpath={.spec.caBundle} {.spec.insecureSkipTLSVerify}")
	if want := base64.StdEncoding.EncodeToString(pki.EncodeCert(env.servingCA.Cert)); strings.TrimSpace(spec) != want {
		t.Errorf("APIService spec caBundle/insecureSkipTLSVerify = %q, want the serving CA and no insecureSkipTLSVerify", spec)
	}
	// authentication.gardener.cloud/v1alpha1 is a body kind only (the API contract): no APIService.
	kubectlFails(t, "admin", []string{"get", "apiservice", "v1alpha1.authentication.gardener.cloud"}, "NotFound")
}

func TestDiscoveryAndExplain(t *testing.T) {
	out := mustKubectl(t, "admin", "api-resources", "--api-group=core.gardener.cloud", "--no-headers")
	byName := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		byName[f[0]] = f
	}
	// NAME SHORTNAMES APIVERSION NAMESPACED KIND
	if got, want := strings.Join(byName["internalsecrets"], " "), "internalsecrets ins core.gardener.cloud/v1beta1 true InternalSecret"; got != want {
		t.Errorf("api-resources: internalsecrets = %q, want %q\n%s", got, want, out)
	}
	if got, want := strings.Join(byName["shoots"], " "), "shoots core.gardener.cloud/v1beta1 true Shoot"; got != want {
		t.Errorf("api-resources: shoots = %q, want %q\n%s", got, want, out)
	}
	// The aggregator fetches the OpenAPI of a new APIService asynchronously, with a backoff after
	// failures (the placeholder caBundle, replicas not yet started): explain works once it has.
	start := time.Now()
	eventually(t, 60*time.Second, "kubectl explain internalsecrets.data", func() error {
		var err error
		if out, err = kubectl("admin", "explain", "internalsecrets.data"); err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	})
	t.Logf("kubectl explain worked %s after the test started", time.Since(start).Round(100*time.Millisecond))
	assertContains(t, out, "KIND:", "InternalSecret", "VERSION:", "v1beta1", "FIELD:", "data", "DESCRIPTION:")
	out = mustKubectl(t, "admin", "explain", "shoots.spec.kubernetes.version")
	assertContains(t, out, "KIND:", "Shoot", "FIELD:", "version")
}

func TestInternalSecretCRUD(t *testing.T) {
	file := examplePath("internalsecret.yaml")
	assertContains(t, mustKubectl(t, "admin", "create", "-f", file), "internalsecret.core.gardener.cloud/example created")
	t.Cleanup(func() { _, _ = kubectl("admin", "delete", "-f", file, "--ignore-not-found") })

	out := mustKubectl(t, "admin", "get", "internalsecrets", "-n", projectNS)
	assertContains(t, out, "NAME", "TYPE", "DATA", "AGE")
	found := false
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "example" {
			found = f[1] == "Opaque" && f[2] == "1"
		}
	}
	if !found {
		t.Errorf("kubectl get internalsecrets: no row 'example Opaque 1':\n%s", out)
	}
	out = mustKubectl(t, "admin", "get", "ins", "example", "-n", projectNS, "-o", "yaml")
	assertContains(t, out, "kind: InternalSecret", "apiVersion: core.gardener.cloud/v1beta1",
		"token: "+base64.StdEncoding.EncodeToString([]byte("not-for-end-users")), "type: Opaque")
	if strings.Contains(out, "stringData") {
		t.Errorf("stringData is write-only, but was returned:\n%s", out)
	}
	assertContains(t, mustKubectl(t, "admin", "delete", "-f", file), "internalsecret.core.gardener.cloud \"example\" deleted")
	kubectlFails(t, "admin", []string{"get", "ins", "example", "-n", projectNS}, "NotFound")
}

func TestShootCRUD(t *testing.T) {
	file := examplePath("shoot.yaml")
	assertContains(t, mustKubectl(t, "admin", "create", "-f", file), "shoot.core.gardener.cloud/my-shoot created")
	t.Cleanup(func() {
		_, _ = kubectl("admin", "annotate", "-f", file, "confirmation.gardener.cloud/deletion=true", "--overwrite")
		_, _ = kubectl("admin", "delete", "-f", file, "--ignore-not-found")
	})
	assertContains(t, mustKubectl(t, "admin", "get", "shoots", "-n", projectNS), "my-shoot")
	out := mustKubectl(t, "admin", "get", "shoot", "my-shoot", "-n", projectNS, "-o", "yaml")
	assertContains(t, out, "kind: Shoot", "version: 1.31.2", "- configmaps", "type: aescbc", "generation: 1")

	// Gardener's deletion protection holds through the aggregator too.
	kubectlFails(t, "admin", []string{"delete", "-f", file}, "confirmation.gardener.cloud/deletion")
	mustKubectl(t, "admin", "annotate", "-f", file, "confirmation.gardener.cloud/deletion=true")
	assertContains(t, mustKubectl(t, "admin", "delete", "-f", file), "shoot.core.gardener.cloud \"my-shoot\" deleted")
	kubectlFails(t, "admin", []string{"get", "shoot", "my-shoot", "-n", projectNS}, "NotFound")
}

func TestNamespaceLifecycle(t *testing.T) {
	for _, manifest := range []string{
		`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":"x","namespace":"e2e-missing"},"data":{"a":"Yg=="}}`,
		`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"Shoot","metadata":{"name":"x","namespace":"e2e-missing"},"spec":{"kubernetes":{"version":"1.31.2"}}}`,
	} {
		out, err := kubectlStdin("admin", manifest, "create", "-f", "-")
		if err == nil {
			t.Errorf("creating an object in a namespace that does not exist succeeded:\n%s", out)
			continue
		}
		assertContains(t, out, `namespaces "e2e-missing" not found`)
	}
	for _, resource := range []string{"internalsecrets", "shoots"} {
		if out := mustKubectl(t, "admin", "get", resource, "-n", "e2e-missing", "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("%s were stored in a namespace that does not exist: %s", resource, out)
		}
	}
}

// TestDelegatedAuthentication talks to a replica directly, as the aggregator and other clients
// would: front-proxy client certificate plus X-Remote-* headers, bearer tokens (TokenReview),
// authorization by SubjectAccessReview, health endpoints for probes only.
func TestDelegatedAuthentication(t *testing.T) {
	base := "https://" + env.replicas[1].addr()
	list := base + "/apis/core.gardener.cloud/v1beta1/namespaces/" + projectNS + "/internalsecrets"
	plain := httpsClient(t, env.servingCAFile, "", "")
	frontProxy := httpsClient(t, env.servingCAFile, env.path("front-proxy-client.crt"), env.path("front-proxy-client.key"))
	bearer := func(name string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + users[name].token}
	}

	for _, c := range []struct {
		name    string
		client  *http.Client
		url     string
		headers map[string]string
		want    int
	}{
		{"front-proxy user in system:masters", frontProxy, list, map[string]string{"X-Remote-User": "carol", "X-Remote-Group": "system:masters"}, http.StatusOK},
		{"front-proxy user without RBAC", frontProxy, list, map[string]string{"X-Remote-User": "carol"}, http.StatusForbidden},
		{"spoofed X-Remote-User without the front-proxy certificate", plain, list, map[string]string{"X-Remote-User": "admin", "X-Remote-Group": "system:masters"}, http.StatusUnauthorized},
		{"admin token (TokenReview)", plain, list, bearer("admin"), http.StatusOK},
		{"unbound user's token (SubjectAccessReview)", plain, list, bearer("bob"), http.StatusForbidden},
		{"unknown token", plain, list, map[string]string{"Authorization": "Bearer not-a-token"}, http.StatusUnauthorized},
		{"anonymous API request", plain, list, nil, http.StatusUnauthorized},
		{"anonymous /readyz", plain, base + "/readyz", nil, http.StatusOK},
		{"anonymous /livez", plain, base + "/livez", nil, http.StatusOK},
	} {
		if got, body := status(t, c.client, c.url, c.headers); got != c.want {
			t.Errorf("%s: GET %s = %d, want %d\n%s", c.name, c.url, got, c.want, body)
		}
	}
}

// TestProjectMemberRBAC binds alice to the project-member ClusterRole of artifacts/deploy: she
// may request kubeconfigs but not read InternalSecrets; bob, bound to nothing, may do neither.
func TestProjectMemberRBAC(t *testing.T) {
	shoot := createShoot(t, "e2e-rbac")
	mustKubectl(t, "admin", "create", "rolebinding", "e2e-alice-project-member", "-n", projectNS,
		"--clusterrole=garden-apiserver:project-member", "--user=alice")
	t.Cleanup(func() { _, _ = kubectl("admin", "delete", "rolebinding", "e2e-alice-project-member", "-n", projectNS) })
	request := examplePath("adminkubeconfigrequest.json")

	// RBAC in kube-apiserver and the authorizer caches of the replicas need a moment.
	var out string
	eventually(t, 15*time.Second, "alice requests an admin kubeconfig", func() error {
		var err error
		out, err = kubectl("alice", "create", "--raw", shootPath(projectNS, shoot, "adminkubeconfig"), "-f", request)
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	})
	cfg, _, _ := kubeconfigFromResponse(t, out)
	cert := clientCert(t, cfg)
	if cert.Subject.CommonName != "gardener.cloud:admin:alice" || !slices.Equal(cert.Subject.Organization, []string{"gardener.cloud:project:admins"}) {
		t.Errorf("alice's kubeconfig is for %v, want CN=gardener.cloud:admin:alice O=gardener.cloud:project:admins", cert.Subject)
	}
	mustKubectl(t, "alice", "get", "shoots", "-n", projectNS)
	kubectlFails(t, "alice", []string{"get", "internalsecrets", "-n", projectNS}, "Forbidden", `User "alice" cannot list resource "internalsecrets"`)
	kubectlFails(t, "alice", []string{"get", "internalsecrets", "-n", projectNS, shoot + ".ca-client"}, "Forbidden")

	kubectlFails(t, "bob", []string{"create", "--raw", shootPath(projectNS, shoot, "adminkubeconfig"), "-f", request}, "Forbidden")
	kubectlFails(t, "bob", []string{"get", "internalsecrets", "-n", projectNS}, "Forbidden", `User "bob" cannot list resource "internalsecrets"`)

	// The split of the contract: InternalSecrets never aggregate into the default roles.
	labels := mustKubectl(t, "admin", "get", "clusterrole", "garden-apiserver:internalsecrets-admin", "-o", "jsonpath={.metadata.labels}")
	if strings.Contains(labels, "rbac.authorization.k8s.io/aggregate-to-") {
		t.Errorf("garden-apiserver:internalsecrets-admin aggregates into a default role: %s", labels)
	}
	rules := mustKubectl(t, "admin", "get", "clusterrole", "garden-apiserver:project-member", "-o", "jsonpath={.rules}")
	if strings.Contains(rules, "internalsecrets") {
		t.Errorf("garden-apiserver:project-member grants internalsecrets: %s", rules)
	}
}

// TestWatchSeesCreateThroughOtherReplica opens a watch through the aggregator, which the proxy
// routes to replica A, and creates an InternalSecret directly on replica B.
func TestWatchSeesCreateThroughOtherReplica(t *testing.T) {
	toB := env.proxy.forwarded(env.replicas[1].addr())
	mustKubectlStdin(t, "admin", internalSecret("e2e-watch-sentinel"), "create", "-f", "-")
	t.Cleanup(func() {
		_, _ = kubectl("admin", "delete", "ins", "-n", projectNS, "e2e-watch-sentinel", "e2e-watch-created-on-b", "--ignore-not-found")
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", "--kubeconfig="+env.userKubeconfig("admin"), "--cache-dir="+env.path("kubectl-cache"),
		"get", "internalsecrets", "-n", projectNS, "--watch", "-o", "name")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	waitLine := func(want string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the watch ended before %q arrived", want)
				}
				if l == want {
					return
				}
			case <-timeout:
				t.Fatalf("the watch through the aggregator did not see %q within 20s", want)
			}
		}
	}
	// The initial list is done: the watch continues from its resourceVersion.
	waitLine("internalsecret.core.gardener.cloud/e2e-watch-sentinel")

	b := env.replicas[1]
	direct := env.path("admin-replica-b.kubeconfig")
	if err := writeKubeconfig(direct, "https://"+b.addr(), pki.EncodeCert(env.servingCA.Cert), authInfoToken("admin")); err != nil {
		t.Fatal(err)
	}
	mustKubectlStdin(t, direct, internalSecret("e2e-watch-created-on-b"), "create", "-f", "-")
	waitLine("internalsecret.core.gardener.cloud/e2e-watch-created-on-b")

	if got := env.proxy.forwarded(b.addr()); got != toB {
		t.Errorf("the aggregator's connections went to replica B too (%d new), so the watch may not have been on A", got-toB)
	}
}

// TestServingContinuesWhenAReplicaStops stops replica A (SIGTERM, graceful) under a steady load
// of reads through the aggregator; B takes over (restarting A afterwards).
func TestServingContinuesWhenAReplicaStops(t *testing.T) {
	a, b := env.replicas[0], env.replicas[1]
	t.Cleanup(func() {
		if err := env.startReplica(a); err != nil {
			t.Errorf("restarting replica A: %v", err)
		}
	})
	client := httpsClient(t, env.path("host-ca.crt"), "", "")
	url := env.kas.url() + "/apis/core.gardener.cloud/v1beta1/namespaces/" + projectNS + "/shoots"
	reads := &steadyReads{}
	ok, failed := &reads.ok, &reads.failed
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); reads.run(client, url, stop) }()
	waitFor(t, 20*time.Second, "reads through the aggregator before the stop", func() bool { return ok.Load() >= 20 })
	toB := env.proxy.forwarded(b.addr())
	a.proc.Stop()
	t.Logf("replica A stopped: %v", a.proc.Err())
	okAtStop := ok.Load()
	waitFor(t, 30*time.Second, "50 reads through the aggregator with replica A stopped", func() bool {
		return ok.Load()+failed.Load() >= okAtStop+50 && env.proxy.forwarded(b.addr()) > toB
	})
	close(stop)
	wg.Wait()

	t.Logf("%d reads through the aggregator while replica A stopped, %d failed", ok.Load()+failed.Load(), failed.Load())
	if failed.Load() > 0 {
		reads.failures.Range(func(k, v any) bool { t.Errorf("request at %s: %v", k, v); return true })
		t.Errorf("%d of %d reads through the aggregator failed while replica A stopped", failed.Load(), failed.Load()+ok.Load())
	}
	if env.proxy.forwarded(b.addr()) == toB {
		t.Errorf("no connection went to replica B after A stopped")
	}
	// Writes and the APIService keep working on B alone.
	mustKubectlStdin(t, "admin", internalSecret("e2e-failover"), "create", "-f", "-")
	t.Cleanup(func() {
		_, _ = kubectl("admin", "delete", "ins", "e2e-failover", "-n", projectNS, "--ignore-not-found")
	})
	assertContains(t, mustKubectl(t, "admin", "get", "ins", "e2e-failover", "-n", projectNS), "e2e-failover")
	if cond := mustKubectl(t, "admin", "get", "apiservice", apiServiceName,
		"-o", `jsonpath={.status.conditions[?(@.type=="Available")].status}`); cond != "True" {
		t.Errorf("APIService Available = %q with one replica, want True", cond)
	}
}

// steadyReads counts the answers to GETs as the admin user, one every 20 ms.
type steadyReads struct {
	ok, failed atomic.Int32
	failures   sync.Map // time -> status or error of each failed request
}

// run reads url until stop is closed.
func (r *steadyReads) run(client *http.Client, url string, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+users["admin"].token)
		resp, err := client.Do(req)
		switch {
		case err != nil:
			r.failed.Add(1)
			r.failures.Store(time.Now().String(), err.Error())
		case resp.StatusCode == http.StatusOK:
			_ = resp.Body.Close()
			r.ok.Add(1)
		default:
			_ = resp.Body.Close()
			r.failed.Add(1)
			r.failures.Store(time.Now().String(), resp.Status)
		}
		time.Sleep(20 * time.Millisecond) // pacing, not waiting
	}
}

// TestDelegatedServerRefusesToStartWithoutItsCluster: the pre-flight check of pkg/apiserver.
func TestDelegatedServerRefusesToStartWithoutItsCluster(t *testing.T) {
	closed, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	unreachable := env.path("unreachable.kubeconfig")
	if err := writeKubeconfig(unreachable, fmt.Sprintf("https://127.0.0.1:%d", closed), pki.EncodeCert(env.hostCA.Cert), authInfoToken("admin")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, kubeconfig string
		want             []string
	}{
		{"unreachable cluster", unreachable, []string{
			fmt.Sprintf("cannot reach the Kubernetes cluster at https://127.0.0.1:%d", closed), "--kubeconfig=" + unreachable}},
		{"identity without RBAC", env.userKubeconfig("bob"), []string{
			"kube-system/extension-apiserver-authentication", "forbidden", "extension-apiserver-authentication-reader"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			port, err := procs.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			name := "refuses-" + strings.ReplaceAll(c.name, " ", "-")
			start := time.Now()
			p, err := env.start(name, env.bins.gardenAPI,
				"--etcd-servers="+env.etcdURL, "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
				"--tls-cert-file="+env.path("garden-serving.crt"), "--tls-private-key-file="+env.path("garden-serving.key"),
				"--kubeconfig="+c.kubeconfig, "--authentication-kubeconfig="+c.kubeconfig, "--authorization-kubeconfig="+c.kubeconfig,
				"--state-dir="+env.path("state-"+name), "--cluster-check-timeout=3s")
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.Done():
			case <-time.After(30 * time.Second):
				p.Stop()
				t.Fatalf("the server did not exit within 30s; log %s:\n%s", p.LogPath, procs.Tail(p.LogPath, 20))
			}
			if p.Err() == nil {
				t.Fatalf("the server exited with status 0, want an error")
			}
			log, _ := os.ReadFile(p.LogPath)
			assertContains(t, string(log), c.want...)
			if strings.Contains(string(log), "Serving securely") {
				t.Errorf("the server served before giving up:\n%s", log)
			}
			t.Logf("exited after %s: %v", time.Since(start).Round(100*time.Millisecond), p.Err())
		})
	}
}

func internalSecret(name string) string {
	return fmt.Sprintf(`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":%q,"namespace":%q},"stringData":{"k":"v"}}`,
		name, projectNS)
}
