package shootaccess

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// BenchmarkIssuance measures the per-request work of shoots/adminkubeconfig once the CA
// is cached: one key generation, one signature, rendering the kubeconfig.
func BenchmarkIssuance(b *testing.B) {
	ca, err := pki.NewCA("bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	shoot := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "garden-p"}}
	addrs := []core.ShootAdvertisedAddress{{Name: "external", URL: "https://e"}, {Name: "internal", URL: "https://i"}}
	caPEM := pki.EncodeCert(ca.Cert)
	for _, kt := range pki.KeyTypes {
		b.Run(string(kt), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				certPEM, keyPEM := issueClientCert(b, ca, kt)
				if _, err := Build(shoot, addrs, caPEM, certPEM, keyPEM); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBuild measures writing one issuance's kubeconfig (two addresses, an RSA-3072 client
// key): the part of BenchmarkIssuance that is not cryptography.
func BenchmarkBuild(b *testing.B) {
	ca, err := pki.NewCA("bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	certPEM, keyPEM := issueClientCert(b, ca, pki.DefaultKeyType)
	shoot := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "garden-p"}}
	addrs := []core.ShootAdvertisedAddress{{Name: "external", URL: "https://e"}, {Name: "internal", URL: "https://i"}}
	caPEM := pki.EncodeCert(ca.Cert)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(shoot, addrs, caPEM, certPEM, keyPEM); err != nil {
			b.Fatal(err)
		}
	}
}

// issueClientCert is the cryptography of one issuance: a fresh key and a certificate for it.
func issueClientCert(b *testing.B, ca *pki.CA, kt pki.KeyType) (certPEM, keyPEM []byte) {
	key, err := pki.NewKey(kt)
	if err != nil {
		b.Fatal(err)
	}
	_, certPEM, err = ca.Issue(pki.Leaf{CommonName: "u", Organizations: []string{ProjectAdmins}, NotAfter: time.Now().Add(time.Hour)}, key.Public())
	if err != nil {
		b.Fatal(err)
	}
	if keyPEM, err = pki.EncodeKey(key); err != nil {
		b.Fatal(err)
	}
	return certPEM, keyPEM
}

// BenchmarkParseCA is the cost the resourceVersion cache saves on every request.
func BenchmarkParseCA(b *testing.B) {
	ca, err := pki.NewCA("bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	certPEM := pki.EncodeCert(ca.Cert)
	keyPEM, _ := pki.EncodeKey(ca.Key)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pki.ParseCA(certPEM, keyPEM); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCACacheEntry reports the heap one cached client CA holds (parsed certificate and key,
// ECDSA P-256 as Gardener's CAs; RSA keys are larger), the figure behind --shoot-kubeconfig-ca-cache-size.
func BenchmarkCACacheEntry(b *testing.B) {
	ca, err := pki.NewCA("bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	certPEM := pki.EncodeCert(ca.Cert)
	keyPEM, _ := pki.EncodeKey(ca.Key)
	const n = 1000
	cache := newCACache(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		parsed, err := pki.ParseCA(certPEM, keyPEM)
		if err != nil {
			b.Fatal(err)
		}
		cache.Add(fmt.Sprintf("ns/shoot-%d.ca-client", i), cachedCA{version: "123/uid/0123456789abcdef", ca: parsed})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(cache)
	for b.Loop() {
	}
	b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc))/n, "bytes/entry")
}
