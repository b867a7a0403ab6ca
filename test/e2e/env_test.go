package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

const (
	deployNamespace = "garden-apiserver"
	serviceName     = "garden-apiserver"
	apiServiceName  = "v1beta1.core.gardener.cloud"
	projectNS       = "garden-dev"
	frontProxyUser  = "front-proxy-client"
)

// Users of the host kube-apiserver's token file.
var users = map[string]struct{ token, groups string }{
	"admin": {"admin-token", "system:masters"},
	"alice": {"alice-token", "project-members"}, // bound to garden-apiserver:project-member in garden-dev
	"bob":   {"bob-token", "strangers"},         // bound to nothing
	"carol": {"carol-token", "operators"},       // bound by tests to issue kubeconfigs in all namespaces
}

type binaries struct{ etcd, kubeAPIServer, gardenAPI string }

type environment struct {
	root string
	dir  string // logs, certificates, kubeconfigs
	bins binaries

	mu    sync.Mutex // kubectl.log
	procs procs.Group

	etcdURL string
	kas     *kubeAPIServer // the host cluster
	// shootKAS plays the shoot cluster: clients are authenticated by the <shoot>.ca-client CA,
	// its serving certificate is signed by the <shoot>.ca-cluster CA, and artifacts/shoot-rbac is applied.
	shootKAS *kubeAPIServer
	// bareShootKAS is a shoot without the bindings of artifacts/shoot-rbac whose serving certificate
	// is signed by rotatedClusterCA, the new cluster CA of a rotation.
	bareShootKAS     *kubeAPIServer
	rotatedClusterCA *pki.CA

	hostCA, servingCA              *pki.CA
	shootClientCA, shootClusterCA  *pki.CA
	servingCAFile, shootClusterCAF string

	replicas [2]*replica
	proxy    *failoverProxy
}

type kubeAPIServer struct {
	port int
	proc *process
}

func (k *kubeAPIServer) url() string { return fmt.Sprintf("https://127.0.0.1:%d", k.port) }

type replica struct {
	name string
	port int
	args []string
	proc *process
}

func (r *replica) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func newEnvironment() (*environment, error) {
	root, bins, err := findRepo()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "garden-e2e-")
	if err != nil {
		return nil, err
	}
	return &environment{root: root, dir: dir, bins: bins, procs: procs.Group{Dir: dir}}, nil
}

func (e *environment) path(name string) string { return filepath.Join(e.dir, name) }

func (e *environment) setup() error {
	if err := e.writeCertificates(); err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	if err := e.startEtcd(); err != nil {
		return err
	}
	if err := e.startKubeAPIServers(); err != nil {
		return err
	}
	if err := e.applyShootRBAC(); err != nil {
		return err
	}
	for name := range users {
		if err := e.writeUserKubeconfig(name); err != nil {
			return err
		}
	}
	saKubeconfig, err := e.install()
	if err != nil {
		return err
	}
	if err := e.startReplicas(saKubeconfig); err != nil {
		return err
	}
	if e.proxy, err = startFailoverProxy(e.replicas[0].addr(), e.replicas[1].addr()); err != nil {
		return err
	}
	return e.routeAPIService()
}

// startKubeAPIServers starts the host and the two shoot kube-apiservers in parallel: each takes ~10 s.
func (e *environment) startKubeAPIServers() error {
	var kasErr, shootErr, bareErr error
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); e.kas, kasErr = e.startHostKubeAPIServer() }()
	go func() {
		defer wg.Done()
		e.shootKAS, shootErr = e.startShootKubeAPIServer("shoot-kube-apiserver", "shoot-serving", "10.1.0.0/24")
	}()
	go func() {
		defer wg.Done()
		e.bareShootKAS, bareErr = e.startShootKubeAPIServer("bare-shoot-kube-apiserver", "bare-shoot-serving", "10.2.0.0/24")
	}()
	wg.Wait()
	return errors.Join(kasErr, shootErr, bareErr)
}

// install applies the kustomization as a cluster admin would, creates the project namespace and
// returns a kubeconfig of the deployment's service account, whose RBAC the replicas run with.
func (e *environment) install() (string, error) {
	if out, err := kubectl("admin", "apply", "-k", filepath.Join(e.root, "artifacts", "deploy")); err != nil {
		return "", fmt.Errorf("kubectl apply -k artifacts/deploy: %w\n%s", err, out)
	} else if strings.Contains(out, "Warning:") {
		// E.g. the Deployment would violate the namespace's "restricted" Pod Security level.
		return "", fmt.Errorf("kubectl apply -k artifacts/deploy warned:\n%s", out)
	}
	if out, err := kubectl("admin", "create", "namespace", projectNS); err != nil {
		return "", fmt.Errorf("creating namespace %s: %w\n%s", projectNS, err, out)
	}
	token, err := kubectl("admin", "create", "token", serviceName, "-n", deployNamespace, "--duration=2h")
	if err != nil {
		return "", fmt.Errorf("creating a token for the garden-apiserver service account: %w\n%s", err, token)
	}
	saKubeconfig := e.path("garden-apiserver.kubeconfig")
	return saKubeconfig, writeKubeconfig(saKubeconfig, e.kas.url(), pki.EncodeCert(e.hostCA.Cert), &clientcmdapi.AuthInfo{Token: strings.TrimSpace(token)})
}

// startReplicas starts the two replicas in parallel, in delegated mode with saKubeconfig.
func (e *environment) startReplicas(saKubeconfig string) error {
	for i, name := range []string{"a", "b"} {
		port, err := procs.FreePort()
		if err != nil {
			return err
		}
		e.replicas[i] = &replica{name: "garden-apiserver-" + name, port: port, args: []string{
			"--etcd-servers=" + e.etcdURL,
			"--bind-address=127.0.0.1",
			fmt.Sprintf("--secure-port=%d", port),
			"--tls-cert-file=" + e.path("garden-serving.crt"),
			"--tls-private-key-file=" + e.path("garden-serving.key"),
			"--kubeconfig=" + saKubeconfig,
			"--authentication-kubeconfig=" + saKubeconfig,
			"--authorization-kubeconfig=" + saKubeconfig,
			"--state-dir=" + e.path("state-"+name),
			// The shipped policy, so TestNoCredentialsInLogs checks what operators deploy.
			"--audit-policy-file=" + filepath.Join(e.root, "artifacts", "deploy", "audit-policy.yaml"),
			"--audit-log-path=" + e.path("garden-apiserver-"+name+".audit.log"),
		}}
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, r := range e.replicas {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = e.startReplica(r) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// routeAPIService turns the deployment's ClusterIP Service into an ExternalName Service to
// localhost (no kube-proxy here) and points the APIService at the proxy, with the real caBundle.
func (e *environment) routeAPIService() error {
	if out, err := kubectl("admin", "delete", "service", serviceName, "-n", deployNamespace, "--wait"); err != nil {
		return fmt.Errorf("deleting the ClusterIP service: %w\n%s", err, out)
	}
	svc := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q,"namespace":%q},"spec":{"type":"ExternalName","externalName":"localhost"}}`,
		serviceName, deployNamespace)
	if out, err := kubectlStdin("admin", svc, "create", "-f", "-"); err != nil {
		return fmt.Errorf("creating the ExternalName service: %w\n%s", err, out)
	}
	patch := fmt.Sprintf(`{"spec":{"caBundle":%q,"service":{"port":%d}}}`,
		base64.StdEncoding.EncodeToString(pki.EncodeCert(e.servingCA.Cert)), e.proxy.port())
	if out, err := kubectl("admin", "patch", "apiservice", apiServiceName, "--type=merge", "-p", patch); err != nil {
		return fmt.Errorf("patching the APIService: %w\n%s", err, out)
	}
	if out, err := kubectl("admin", "wait", "--for=condition=Available", "apiservice/"+apiServiceName, "--timeout=60s"); err != nil {
		status, _ := kubectl("admin", "get", "apiservice", apiServiceName, "-o", "yaml")
		return fmt.Errorf("the APIService did not become available: %w\n%s\n%s", err, out, status)
	}
	return nil
}

// --- certificates ---

func (e *environment) writeCertificates() error {
	var err error
	newCA := func(name string) *pki.CA {
		if err != nil {
			return nil
		}
		var ca *pki.CA
		ca, err = pki.NewCA(name, 24*time.Hour)
		return ca
	}
	e.hostCA = newCA("e2e-host-cluster-ca")
	clientCA := newCA("e2e-host-client-ca")
	frontProxyCA := newCA("e2e-front-proxy-ca")
	e.servingCA = newCA("e2e-garden-apiserver-serving-ca")
	e.shootClientCA = newCA("e2e-shoot.ca-client")
	e.shootClusterCA = newCA("e2e-shoot.ca-cluster")
	e.rotatedClusterCA = newCA("e2e-shoot.ca-cluster-rotated")
	if err != nil {
		return err
	}
	loopback := []net.IP{net.ParseIP("127.0.0.1")}
	for _, c := range []struct {
		name string
		ca   *pki.CA
		leaf pki.Leaf
	}{
		{"host-serving", e.hostCA, pki.Leaf{CommonName: "kube-apiserver", DNSNames: []string{"localhost"}, IPs: loopback, Server: true}},
		{"front-proxy-client", frontProxyCA, pki.Leaf{CommonName: frontProxyUser}},
		// The aggregator verifies the name <service>.<namespace>.svc.
		{"garden-serving", e.servingCA, pki.Leaf{CommonName: "garden-apiserver",
			DNSNames: []string{"localhost", serviceName + "." + deployNamespace + ".svc"}, IPs: loopback, Server: true}},
		{"shoot-serving", e.shootClusterCA, pki.Leaf{CommonName: "shoot-kube-apiserver", DNSNames: []string{"localhost"}, IPs: loopback, Server: true}},
		{"bare-shoot-serving", e.rotatedClusterCA, pki.Leaf{CommonName: "bare-shoot-kube-apiserver", DNSNames: []string{"localhost"}, IPs: loopback, Server: true}},
	} {
		c.leaf.NotAfter = time.Now().Add(24 * time.Hour)
		if err := issueTo(c.ca, c.leaf, e.path(c.name+".crt"), e.path(c.name+".key")); err != nil {
			return err
		}
	}
	for name, ca := range map[string]*pki.CA{"host-ca": e.hostCA, "client-ca": clientCA, "front-proxy-ca": frontProxyCA,
		"garden-serving-ca": e.servingCA, "shoot-client-ca": e.shootClientCA, "shoot-cluster-ca": e.shootClusterCA} {
		if err := pki.WriteFile(e.path(name+".crt"), pki.EncodeCert(ca.Cert)); err != nil {
			return err
		}
	}
	e.servingCAFile, e.shootClusterCAF = e.path("garden-serving-ca.crt"), e.path("shoot-cluster-ca.crt")
	// During a cluster CA rotation the shoot's operator publishes both CAs.
	if err := pki.WriteFile(e.path("shoot-cluster-cas.crt"), append(pki.EncodeCert(e.shootClusterCA.Cert), pki.EncodeCert(e.rotatedClusterCA.Cert)...)); err != nil {
		return err
	}

	if err := procs.WriteServiceAccountKey(e.path("sa.key")); err != nil {
		return err
	}
	var tokens bytes.Buffer
	for name, u := range users {
		fmt.Fprintf(&tokens, "%s,%s,%s-uid,%q\n", u.token, name, name, u.groups)
	}
	return pki.WriteFile(e.path("tokens.csv"), tokens.Bytes())
}

func issueTo(ca *pki.CA, leaf pki.Leaf, certPath, keyPath string) error {
	_, certPEM, keyPEM, err := ca.IssueKeyPair(leaf, pki.ECDSAP256)
	if err != nil {
		return err
	}
	if err := pki.WriteFile(keyPath, keyPEM); err != nil {
		return err
	}
	return pki.WriteFile(certPath, certPEM)
}

// --- processes ---

type process = procs.Process

// start runs bin with args, its output appended to <name>.log in the environment's directory.
func (e *environment) start(name, bin string, args ...string) (*process, error) {
	return e.procs.Start(name, bin, args...)
}

func (e *environment) teardown() {
	if e.proxy != nil {
		e.proxy.close()
	}
	e.procs.StopAll()
}

// dumpLogs prints the tail of every log.
func (e *environment) dumpLogs(w io.Writer) {
	logs, _ := filepath.Glob(e.path("*.log"))
	sort.Strings(logs)
	for _, l := range logs {
		fmt.Fprintf(w, "\n----- last lines of %s -----\n%s", l, procs.Tail(l, 40))
	}
}

func (e *environment) startEtcd() (err error) {
	// A throw-away data directory: durability buys nothing here, speed does.
	e.etcdURL, _, err = e.procs.StartEtcd(e.bins.etcd, "etcd", "--unsafe-no-fsync")
	return err
}

// kubeAPIServerArgs are the flags both kube-apiservers share.
func (e *environment) kubeAPIServerArgs(port int, extra ...string) []string {
	return append([]string{
		"--etcd-servers=" + e.etcdURL,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + e.path("sa.key"),
		"--service-account-signing-key-file=" + e.path("sa.key"),
		"--authorization-mode=RBAC",
		"--profiling=false",
	}, extra...)
}

func (e *environment) startHostKubeAPIServer() (*kubeAPIServer, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	p, err := e.start("kube-apiserver", e.bins.kubeAPIServer, e.kubeAPIServerArgs(port,
		"--cert-dir="+e.path("kube-apiserver-certs"),
		"--tls-cert-file="+e.path("host-serving.crt"),
		"--tls-private-key-file="+e.path("host-serving.key"),
		"--client-ca-file="+e.path("client-ca.crt"),
		"--token-auth-file="+e.path("tokens.csv"),
		"--service-cluster-ip-range=10.0.0.0/24",
		// The front-proxy set: the aggregator authenticates to garden-apiserver with this client
		// certificate and passes the user in the X-Remote-* headers.
		"--requestheader-client-ca-file="+e.path("front-proxy-ca.crt"),
		"--proxy-client-cert-file="+e.path("front-proxy-client.crt"),
		"--proxy-client-key-file="+e.path("front-proxy-client.key"),
		"--requestheader-allowed-names="+frontProxyUser,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
	)...)
	if err != nil {
		return nil, err
	}
	k := &kubeAPIServer{port: port, proc: p}
	return k, procs.WaitHealthy(p, k.url()+"/readyz", e.path("host-ca.crt"), users["admin"].token, 90*time.Second)
}

// startShootKubeAPIServer starts a shoot's kube-apiserver trusting the <shoot>.ca-client CA, serving
// with the certificate files <serving>.crt/.key.
func (e *environment) startShootKubeAPIServer(name, serving, serviceRange string) (*kubeAPIServer, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	p, err := e.start(name, e.bins.kubeAPIServer, e.kubeAPIServerArgs(port,
		"--etcd-prefix=/registry-e2e-"+name,
		"--cert-dir="+e.path(name+"-certs"),
		"--tls-cert-file="+e.path(serving+".crt"),
		"--tls-private-key-file="+e.path(serving+".key"),
		"--client-ca-file="+e.path("shoot-client-ca.crt"),
		"--service-cluster-ip-range="+serviceRange,
	)...)
	if err != nil {
		return nil, err
	}
	k := &kubeAPIServer{port: port, proc: p}
	// Anonymous: /readyz is public (system:public-info-viewer). Any CA of the bundle will do.
	return k, procs.WaitHealthy(p, k.url()+"/readyz", e.path("shoot-cluster-cas.crt"), "", 90*time.Second)
}

// applyShootRBAC applies artifacts/shoot-rbac to the shoot as its operator would, with a
// system:masters certificate of the test harness (never one the server issued).
func (e *environment) applyShootRBAC() error {
	certPEM, keyPEM, err := harnessCert(e.shootClientCA, "e2e-shoot-operator", "system:masters")
	if err != nil {
		return err
	}
	path := e.path("shoot-operator.kubeconfig")
	if err := writeKubeconfig(path, e.shootKAS.url(), pki.EncodeCert(e.shootClusterCA.Cert),
		&clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}); err != nil {
		return err
	}
	if out, err := kubectl(path, "apply", "-k", filepath.Join(e.root, "artifacts", "shoot-rbac")); err != nil {
		return fmt.Errorf("kubectl apply -k artifacts/shoot-rbac: %w\n%s", err, out)
	}
	return nil
}

func harnessCert(ca *pki.CA, user string, groups ...string) (certPEM, keyPEM []byte, err error) {
	return harnessCertValid(ca, pki.Leaf{CommonName: user, Organizations: groups, NotAfter: time.Now().Add(24 * time.Hour)})
}

// harnessCertValid signs a client certificate of the test harness with the given subject and validity.
func harnessCertValid(ca *pki.CA, leaf pki.Leaf) (certPEM, keyPEM []byte, err error) {
	_, certPEM, keyPEM, err = ca.IssueKeyPair(leaf, pki.ECDSAP256)
	return certPEM, keyPEM, err
}

func (e *environment) startReplica(r *replica) error {
	p, err := e.start(r.name, e.bins.gardenAPI, r.args...)
	if err != nil {
		return err
	}
	r.proc = p
	// /readyz is reachable anonymously (the probes of the Deployment rely on it).
	return procs.WaitHealthy(p, fmt.Sprintf("https://%s/readyz", r.addr()), e.servingCAFile, "", 60*time.Second)
}

// --- kubeconfigs and kubectl ---

func writeKubeconfig(path, server string, caPEM []byte, user *clientcmdapi.AuthInfo) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["user"] = user
	cfg.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "user"}
	cfg.CurrentContext = "e2e"
	return clientcmd.WriteToFile(*cfg, path)
}

func (e *environment) writeUserKubeconfig(name string) error {
	return writeKubeconfig(e.userKubeconfig(name), e.kas.url(), pki.EncodeCert(e.hostCA.Cert),
		&clientcmdapi.AuthInfo{Token: users[name].token})
}

func (e *environment) userKubeconfig(name string) string { return e.path(name + ".kubeconfig") }

// kubectl runs kubectl against the host kube-apiserver as one of the users, or with an explicit
// kubeconfig when user is a path.
func kubectl(user string, args ...string) (string, error) {
	return kubectlStdin(user, "", args...)
}

func kubectlStdin(user, stdin string, args ...string) (string, error) {
	kubeconfig := user
	if !strings.Contains(user, string(filepath.Separator)) {
		kubeconfig = env.userKubeconfig(user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--kubeconfig=" + kubeconfig, "--cache-dir=" + env.path("kubectl-cache")}, args...)
	cmd := exec.CommandContext(ctx, "kubectl", full...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	env.logKubectl(full, out.String(), err)
	return out.String(), err
}

func (e *environment) logKubectl(args []string, out string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ferr := os.OpenFile(e.path("kubectl.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if ferr != nil {
		return
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "$ kubectl %s   (err: %v)\n%s\n", strings.Join(args, " "), err, out)
	_ = w.Flush()
}
