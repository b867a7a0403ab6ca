package shootaccess

import (
	"fmt"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdlatest "k8s.io/client-go/tools/clientcmd/api/latest"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// FuzzBuild: any advertised addresses (names, URLs) and shoot name render a kubeconfig
// that clientcmd parses, with the values unchanged (the server being scheme and host of the URL).
func FuzzBuild(f *testing.F) {
	f.Add("garden-p", "s", "external", "https://api.example.com", "internal", "https://10.0.0.1:443", []byte("CA"))
	f.Add("garden-p", "s", "wildcard-tls-seed-bound", "https://x\n  server: https://evil\"\\: #", "unmanaged", "", []byte{})
	f.Add("a\x00b", "\xff\xfe", "external", "{{ }}: [&anchor *alias]", "internal", "'\"\t\r\n---\n...", []byte{0, 1, 2})
	f.Add("", "", "", "", "x", "", []byte(nil))
	f.Add("ns", "n", "external", "\u2028\u2029\ufeff", "unmanaged", "- - -", []byte("-----BEGIN CERTIFICATE-----"))

	f.Fuzz(func(t *testing.T, namespace, name, n1, u1, n2, u2 string, ca []byte) {
		if n1 == n2 {
			t.Skip("status validation rejects duplicate address names")
		}
		shoot := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
		addrs := []core.ShootAdvertisedAddress{{Name: n1, URL: u1}, {Name: n2, URL: u2}}
		raw, err := Build(shoot, addrs, ca, []byte("CERT"), []byte("KEY"))
		server1, err1 := serverURL(u1)
		_, err2 := serverURL(u2)
		if err1 != nil || err2 != nil {
			if err == nil {
				t.Fatalf("Build accepted an address without a host: %q, %q", u1, u2)
			}
			return // status validation rejects such URLs
		}
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.Load(raw)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, raw)
		}
		// JSON quoting replaces invalid UTF-8 with U+FFFD: compare only for valid input.
		if !validUTF8(namespace, name, n1, u1) {
			return
		}
		ref, err := codecBuild(shoot, addrs, ca, []byte("CERT"), []byte("KEY"))
		if err != nil {
			t.Fatal(err)
		}
		refCfg, err := clientcmd.Load(ref)
		if err != nil {
			t.Fatal(err)
		}
		if !apiequality.Semantic.DeepEqual(refCfg, cfg) {
			t.Fatalf("reads differently from client-go's codec:\n%s\n---\n%s", raw, ref)
		}
		want := namespace + "--" + name + "-" + n1
		if cfg.CurrentContext != want {
			t.Fatalf("current-context %q, want %q", cfg.CurrentContext, want)
		}
		if c := cfg.Clusters[want]; c == nil || c.Server != server1 {
			t.Fatalf("cluster %q: %+v, want server %q", want, c, server1)
		}
		if u := cfg.AuthInfos[want]; u == nil || string(u.ClientKeyData) != "KEY" {
			t.Fatalf("user missing or key changed: %+v", u)
		}
	})
}

func validUTF8(ss ...string) bool {
	for _, s := range ss {
		for _, r := range s {
			if r == '\uFFFD' {
				return false
			}
		}
	}
	return true
}

// codecBuild is Build written with client-go's kubeconfig types and codec, as Gardener writes
// it: the reference the hand-written Build is checked against.
func codecBuild(shoot *core.Shoot, addrs []core.ShootAdvertisedAddress, clusterCA, certPEM, keyPEM []byte) ([]byte, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no usable advertised address")
	}
	prefix := shoot.Namespace + "--" + shoot.Name
	user := prefix + "-" + addrs[0].Name
	cfg := &clientcmdv1.Config{
		CurrentContext: user,
		Clusters:       make([]clientcmdv1.NamedCluster, 0, len(addrs)),
		Contexts:       make([]clientcmdv1.NamedContext, 0, len(addrs)),
		AuthInfos: []clientcmdv1.NamedAuthInfo{{Name: user, AuthInfo: clientcmdv1.AuthInfo{
			ClientCertificateData: certPEM, ClientKeyData: keyPEM,
		}}},
	}
	for _, a := range addrs {
		server, err := serverURL(a.URL)
		if err != nil {
			return nil, err
		}
		name := prefix + "-" + a.Name
		cluster := clientcmdv1.Cluster{Server: server}
		if a.Name != wildcardAddress {
			cluster.CertificateAuthorityData = clusterCA
		}
		cfg.Clusters = append(cfg.Clusters, clientcmdv1.NamedCluster{Name: name, Cluster: cluster})
		cfg.Contexts = append(cfg.Contexts, clientcmdv1.NamedContext{Name: name, Context: clientcmdv1.Context{Cluster: name, AuthInfo: user}})
	}
	return runtime.Encode(clientcmdlatest.Codec, cfg)
}
