package shootaccess

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// internalSecrets is a rest.Getter over a map, keyed namespace/name.
type internalSecrets map[string]*core.InternalSecret

func (m internalSecrets) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	if s, ok := m[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(core.Resource("internalsecrets"), name)
}

func newTestCA(t *testing.T, name string) []byte {
	t.Helper()
	ca, err := pki.NewCA(name, time.Hour)
	require.NoError(t, err)
	return pki.EncodeCert(ca.Cert)
}

// selfSigned returns a self-signed certificate with the given CA flag and key usage.
func selfSigned(t *testing.T, isCA bool, usage x509.KeyUsage) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "planted"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: isCA, KeyUsage: usage}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestCheckClusterCA(t *testing.T) {
	ca, other := newTestCA(t, "a"), newTestCA(t, "b")
	leaf := selfSigned(t, false, x509.KeyUsageDigitalSignature)
	noCertSign := selfSigned(t, true, x509.KeyUsageDigitalSignature)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	for name, c := range map[string]struct {
		data []byte
		want string // "" accepts
	}{
		"one CA":                      {ca, ""},
		"a rotation bundle":           {append(append([]byte{}, ca...), other...), ""},
		"trailing newlines":           {append(append([]byte{}, ca...), "\n\n"...), ""},
		"empty":                       {nil, "ca.crt is missing or empty"},
		"only space":                  {[]byte(" \n"), "ca.crt is missing or empty"},
		"not PEM":                     {[]byte("hello"), "ca.crt is not a PEM bundle of CA certificates"},
		"garbage after the bundle":    {append(append([]byte{}, ca...), "junk"...), "ca.crt is not a PEM bundle of CA certificates"},
		"a leaf":                      {leaf, "certificate 1 of ca.crt is not a CA certificate"},
		"CA without certSign":         {noCertSign, "certificate 1 of ca.crt is not a CA certificate"},
		"a CA then a leaf":            {append(append([]byte{}, ca...), leaf...), "certificate 2 of ca.crt is not a CA certificate"},
		"a key in the bundle":         {append(append([]byte{}, ca...), keyPEM...), "PEM block 2 of ca.crt is not a certificate"},
		"a certificate block of junk": {pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}), "certificate 1 of ca.crt does not parse"},
	} {
		err := checkClusterCA(c.data)
		if c.want == "" {
			assert.NoError(t, err, name)
			continue
		}
		if assert.Error(t, err, name) {
			assert.Equal(t, c.want+tail(c.want), err.Error(), name)
		}
	}
}

// tail completes the messages that explain what a CA certificate is.
func tail(msg string) string {
	if len(msg) > len("is not a CA certificate") && msg[len(msg)-len("is not a CA certificate"):] == "is not a CA certificate" {
		return " (needs CA:TRUE and the certSign key usage)"
	}
	return ""
}

func TestParseClusterCASources(t *testing.T) {
	for _, ok := range [][]string{{"internalsecret"}, {"configmap", "secret"}, {"secret", "internalsecret", "configmap"}} {
		got, err := ParseClusterCASources(ok)
		require.NoError(t, err, "%v", ok)
		assert.Len(t, got, len(ok))
	}
	for in, want := range map[string][]string{
		"must name at least one of internalsecret, configmap, secret": {},
		"entry 2 is empty": {"configmap", ""},
		`unknown source "ConfigMap", want one of internalsecret, configmap, secret`:       {"ConfigMap"},
		`source "secret" is listed twice`:                                                 {"secret", "configmap", "secret"},
		`unknown source "internalsecrets", want one of internalsecret, configmap, secret`: {"internalsecrets"},
	} {
		_, err := ParseClusterCASources(want)
		if assert.Error(t, err, "%v", want) {
			assert.Equal(t, in, err.Error())
		}
	}
}

func TestOptionsValidateClusterCASources(t *testing.T) {
	o := NewOptions()
	assert.Equal(t, []string{"internalsecret"}, o.ClusterCASources, "the default trusts only what operators write")
	assert.False(t, o.ClusterCAFromCluster())
	o.ClusterCASources = []string{"configmap", "configmap"}
	errs := o.Validate()
	require.Len(t, errs, 1)
	assert.Equal(t, `--shoot-cluster-ca-sources: source "configmap" is listed twice`, errs[0].Error())
}

// clusterCAIssuer has <shoot>.ca-cluster in namespace p as the objects given (nil: absent).
func clusterCAIssuer(sources []string, internalSecret, configMap, secret []byte) *Issuer {
	secrets := internalSecrets{}
	if internalSecret != nil {
		secrets["p/s.ca-cluster"] = &core.InternalSecret{Data: map[string][]byte{CACertKey: internalSecret}}
	}
	var objs []runtime.Object
	if configMap != nil {
		objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "p", Name: "s.ca-cluster"},
			Data: map[string]string{CACertKey: string(configMap)}})
	}
	if secret != nil {
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "p", Name: "s.ca-cluster"},
			Data: map[string][]byte{CACertKey: secret}})
	}
	opts := NewOptions()
	opts.ClusterCASources = sources
	i := NewIssuer(nil, secrets, IdentityPolicy{}, *opts)
	i.Kube = fake.NewClientset(objs...)
	return i
}

func TestClusterCASourcesInOrder(t *testing.T) {
	ins, cm, sec := newTestCA(t, "internal"), newTestCA(t, "configmap"), newTestCA(t, "secret")
	for _, c := range []struct {
		name                string
		sources             []string
		internal, cfg, secr []byte
		want                []byte
	}{
		{"default: the InternalSecret, whatever else exists", []string{"internalsecret"}, ins, cm, sec, ins},
		{"Gardener's order: the ConfigMap first", []string{"configmap", "secret"}, ins, cm, sec, cm},
		{"Gardener's order: the Secret when no ConfigMap", []string{"configmap", "secret"}, ins, nil, sec, sec},
		{"secret before configmap", []string{"secret", "configmap"}, nil, cm, sec, sec},
		{"InternalSecret last", []string{"configmap", "internalsecret"}, ins, nil, sec, ins},
	} {
		got, reason, err := clusterCAIssuer(c.sources, c.internal, c.cfg, c.secr).clusterCA(context.Background(), "p", "s.ca-cluster")
		require.NoError(t, err, c.name)
		assert.Empty(t, reason, c.name)
		assert.Equal(t, string(c.want), string(got), c.name)
	}
}

func TestClusterCASourceWithoutACAIsAnError(t *testing.T) {
	good, leaf := newTestCA(t, "good"), selfSigned(t, false, x509.KeyUsageDigitalSignature)
	for _, c := range []struct {
		name                string
		sources             []string
		internal, cfg, secr []byte
		want                string
	}{
		{"empty ConfigMap does not fall through", []string{"configmap", "secret"}, nil, []byte{}, good,
			"cannot use the cluster CA in ConfigMap p/s.ca-cluster: ca.crt is missing or empty"},
		{"a leaf in the Secret", []string{"secret", "internalsecret"}, good, nil, leaf,
			"cannot use the cluster CA in Secret p/s.ca-cluster: certificate 1 of ca.crt is not a CA certificate"},
		{"an InternalSecret without ca.crt", []string{"internalsecret"}, []byte{}, nil, nil,
			"cannot use the cluster CA in InternalSecret p/s.ca-cluster: ca.crt is missing or empty"},
		{"none exists", []string{"configmap", "secret"}, good, nil, nil,
			"no cluster CA for the shoot: no ConfigMap or Secret p/s.ca-cluster"},
	} {
		_, reason, err := clusterCAIssuer(c.sources, c.internal, c.cfg, c.secr).clusterCA(context.Background(), "p", "s.ca-cluster")
		require.Error(t, err, c.name)
		assert.True(t, apierrors.IsInternalError(err), c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
		assert.NotContains(t, err.Error(), "BEGIN", c.name)
		if c.name == "none exists" {
			assert.Equal(t, ReasonCAMissing, reason)
		} else {
			assert.Equal(t, ReasonCAUnusable, reason, c.name)
		}
	}
}

func TestClusterCASourceInStandaloneIsAnError(t *testing.T) {
	i := clusterCAIssuer([]string{"configmap"}, nil, nil, nil)
	i.Kube = nil
	_, _, err := i.clusterCA(context.Background(), "p", "s.ca-cluster")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the configmap source needs a cluster")
}
