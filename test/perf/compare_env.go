package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// The side-by-side environment: one etcd, one kube-apiserver, our server in delegated mode on the
// same etcd, all on loopback. Certificates and logs live in dir.

const (
	adminToken    = "bench-admin-token"
	frontProxyCN  = "front-proxy-client"
	gardenSvcName = "garden-apiserver"
	gardenSvcNS   = "default"
)

type proc = procs.Process

type env struct {
	dir      string
	etcdURL  string
	kasURL   string
	servingC string // our serving CA file
	kas      *proc

	procs *procs.Group
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// run starts bin with its output in <name>.log; the child is killed if this process dies.
func (e *env) run(name, bin string, args ...string) (*proc, error) {
	return e.procs.Start(name, bin, args...)
}

func (e *env) teardown() { e.procs.StopAll() }

func (e *env) certificates() error {
	loop := []net.IP{net.ParseIP("127.0.0.1")}
	after := time.Now().Add(24 * time.Hour)
	for _, c := range []struct {
		ca   string
		leaf pki.Leaf
		name string
	}{
		{"host-ca", pki.Leaf{CommonName: "kube-apiserver", DNSNames: []string{"localhost"}, IPs: loop, Server: true}, "host-serving"},
		{"front-proxy-ca", pki.Leaf{CommonName: frontProxyCN}, "front-proxy-client"},
		// The aggregator verifies <service>.<namespace>.svc.
		{"garden-ca", pki.Leaf{CommonName: "garden-apiserver", IPs: loop, Server: true,
			DNSNames: []string{"localhost", gardenSvcName + "." + gardenSvcNS + ".svc"}}, "garden-serving"},
		{"client-ca", pki.Leaf{CommonName: "unused"}, "unused-client"},
	} {
		ca, err := pki.NewCA("bench-"+c.ca, 24*time.Hour)
		if err != nil {
			return err
		}
		if err := ca.WriteCA(e.path(c.ca+".crt"), e.path(c.ca+".key")); err != nil {
			return err
		}
		key, err := pki.NewKey(pki.ECDSAP256)
		if err != nil {
			return err
		}
		c.leaf.NotAfter = after
		_, certPEM, err := ca.Issue(c.leaf, key.Public())
		if err != nil {
			return err
		}
		keyPEM, err := pki.EncodeKey(key)
		if err != nil {
			return err
		}
		if err := pki.WriteFile(e.path(c.name+".crt"), certPEM); err != nil {
			return err
		}
		if err := pki.WriteFile(e.path(c.name+".key"), keyPEM); err != nil {
			return err
		}
	}
	e.servingC = e.path("garden-ca.crt")
	if err := pki.WriteFile(e.path("tokens.csv"), []byte(adminToken+",admin,admin-uid,\"system:masters\"\n")); err != nil {
		return err
	}
	return procs.WriteServiceAccountKey(e.path("sa.key"))
}

func (e *env) startEtcd(bin string) (err error) {
	// Throw-away data, shared by every server under test: no fsync for any of them.
	e.etcdURL, _, err = e.procs.StartEtcd(bin, "etcd", "--unsafe-no-fsync", "--quota-backend-bytes=8589934592")
	return err
}

func (e *env) startKubeAPIServer(bin string) error {
	port, err := procs.FreePort()
	if err != nil {
		return err
	}
	e.kasURL = fmt.Sprintf("https://127.0.0.1:%d", port)
	p, err := e.run("kube-apiserver", bin,
		"--etcd-servers="+e.etcdURL, "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir="+e.path("kas-certs"),
		"--tls-cert-file="+e.path("host-serving.crt"), "--tls-private-key-file="+e.path("host-serving.key"),
		"--client-ca-file="+e.path("client-ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+e.path("sa.key"), "--service-account-signing-key-file="+e.path("sa.key"),
		"--token-auth-file="+e.path("tokens.csv"), "--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--requestheader-client-ca-file="+e.path("front-proxy-ca.crt"),
		"--proxy-client-cert-file="+e.path("front-proxy-client.crt"),
		"--proxy-client-key-file="+e.path("front-proxy-client.key"),
		"--requestheader-allowed-names="+frontProxyCN,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-")
	if err != nil {
		return err
	}
	e.kas = p
	if err := procs.WaitHealthy(p, e.kasURL+"/readyz", e.path("host-ca.crt"), adminToken, 120*time.Second); err != nil {
		return err
	}
	return writeTokenKubeconfig(e.path("admin.kubeconfig"), e.kasURL, e.path("host-ca.crt"))
}

// startGarden starts our server in delegated mode (admin token kubeconfig for the cluster) and
// returns it once /readyz answers.
func (e *env) startGarden(bin, name, prefix string, extra ...string) (*proc, string, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, "", err
	}
	kc := e.path("admin.kubeconfig")
	args := []string{"--etcd-servers=" + e.etcdURL, "--etcd-prefix=" + prefix,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file=" + e.path("garden-serving.crt"), "--tls-private-key-file=" + e.path("garden-serving.key"),
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--state-dir=" + e.path("state-"+name)}
	p, err := e.run(name, bin, append(args, extra...)...)
	if err != nil {
		return nil, "", err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := procs.WaitHealthy(p, url+"/readyz", e.servingC, adminToken, 120*time.Second); err != nil {
		return nil, "", err
	}
	return p, url, writeTokenKubeconfig(e.path(name+".kubeconfig"), url, e.servingC)
}

func writeTokenKubeconfig(path, server, caFile string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: caFile}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: adminToken}
	cfg.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "c"
	return clientcmd.WriteToFile(*cfg, path)
}

// restConfig is the client configuration every target shares: no client-side rate limit.
func restConfig(kubeconfigPath string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return nil, err
	}
	if err := loopbackOnly(cfg.Host); err != nil {
		return nil, err
	}
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// poll calls fn every 200 ms until it returns true, an error other than a retryable one, or timeout.
func poll(ctx context.Context, timeout time.Duration, what string, fn func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := fn()
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not done within %s (last error: %w)", what, timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// cpuTime is the CPU time (user and system) the processes have used so far.
func cpuTime(ps ...*proc) time.Duration {
	var ticks int64
	for _, p := range ps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
		if err != nil {
			continue
		}
		// Fields after the command name, which may contain spaces: utime and stime are the
		// 12th and 13th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
