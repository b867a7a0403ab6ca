package shootaccess

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

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
