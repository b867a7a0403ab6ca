package integration

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/test/fixture"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

type shootFixture struct {
	clientCA, clusterCA *pki.CA
}

// createShoot stores a shoot with the given addresses and its two CA InternalSecrets.
func createShoot(t *testing.T, c versioned.Interface, name string, addrs ...corev1beta1.ShootAdvertisedAddress) shootFixture {
	t.Helper()
	cas := framework.CreateShootCAs(t, c, ns, name)
	shoot := framework.CreateShoot(t, c, ns, name)
	shoot.Status.AdvertisedAddresses = addrs
	_, err := c.CoreV1beta1().Shoots(ns).UpdateStatus(context.Background(), shoot, metav1.UpdateOptions{})
	require.NoError(t, err)
	return shootFixture{clientCA: cas.Client, clusterCA: cas.Cluster}
}

func adminRequest(seconds *int64) *authv1alpha1.AdminKubeconfigRequest {
	return &authv1alpha1.AdminKubeconfigRequest{Spec: authv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: seconds}}
}

// clientCert returns the parsed client certificate of the kubeconfig's current context.
func clientCert(t *testing.T, kubeconfig []byte) *x509.Certificate {
	t.Helper()
	return framework.ClientCert(t, kubeconfig)
}

var (
	external = corev1beta1.ShootAdvertisedAddress{Name: "external", URL: "https://api.example.com"}
	internal = corev1beta1.ShootAdvertisedAddress{Name: "internal", URL: "https://api.internal.example.com"}
	wildcard = corev1beta1.ShootAdvertisedAddress{Name: "wildcard-tls-seed-bound", URL: "https://api.seed.example.com"}
	issuer   = corev1beta1.ShootAdvertisedAddress{Name: "service-account-issuer", URL: "https://issuer.example.com"}
)

func TestAdminKubeconfig(t *testing.T) {
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"), 0o600))
	s := framework.Start(t, "", "--shoot-admin-kubeconfig-max-expiration=2h", "--shoot-viewer-kubeconfig-max-expiration=3h",
		"--audit-log-path="+auditLog, "--audit-policy-file="+policy, "--audit-log-mode=blocking")
	ctx := context.Background()
	alice, err := versioned.NewForConfig(s.UserConfig(t, "alice", "system:masters"))
	require.NoError(t, err)
	fx := createShoot(t, s.Client, "prod", wildcard, issuer, internal, external)
	shoots := alice.CoreV1beta1().Shoots(ns)

	before := time.Now()
	res, err := shoots.CreateAdminKubeconfigRequest(ctx, "prod", adminRequest(ptr.To[int64](1200)), metav1.CreateOptions{})
	require.NoError(t, err)

	cert := assertAdminKubeconfig(t, fx, res, before)

	// Viewer: other organization; a fresh key and serial per request.
	before = time.Now()
	viewer, err := shoots.CreateViewerKubeconfigRequest(ctx, "prod", &authv1alpha1.ViewerKubeconfigRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	vcert := clientCert(t, viewer.Status.Kubeconfig)
	assert.Equal(t, "gardener.cloud:viewer:alice", vcert.Subject.CommonName)
	assert.Equal(t, []string{"gardener.cloud:system:viewers"}, vcert.Subject.Organization)
	assert.NotEqual(t, cert.SerialNumber, vcert.SerialNumber)
	assert.NotEqual(t, cert.PublicKey, vcert.PublicKey)
	// Default is one hour.
	assertExpiresIn(t, before, time.Hour, vcert.NotAfter)

	// Clamped to --shoot-admin-kubeconfig-max-expiration, and the viewer to its own flag.
	before = time.Now()
	clamped, err := shoots.CreateAdminKubeconfigRequest(ctx, "prod", adminRequest(ptr.To[int64](86400)), metav1.CreateOptions{})
	require.NoError(t, err)
	assertExpiresIn(t, before, 2*time.Hour, clamped.Status.ExpirationTimestamp.Time)
	before = time.Now()
	vclamped, err := shoots.CreateViewerKubeconfigRequest(ctx, "prod", &authv1alpha1.ViewerKubeconfigRequest{
		Spec: authv1alpha1.ViewerKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](86400)}}, metav1.CreateOptions{})
	require.NoError(t, err)
	assertExpiresIn(t, before, 3*time.Hour, vclamped.Status.ExpirationTimestamp.Time)

	assertAuditedWithoutKey(t, auditLog, cert, res.Status.Kubeconfig)

	// Nothing about the request is stored: still only the two CA secrets and the shoot.
	list, err := s.Client.CoreV1beta1().InternalSecrets(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, list.Items, 2)
}

// assertAdminKubeconfig checks the kubeconfig of an admin request by alice (system:masters) for
// the shoot "prod", sent at before with 1200 s asked for: the clusters of its addresses, a client
// certificate of the client CA for a system admin, and Gardener's RSA key. It returns the certificate.
func assertAdminKubeconfig(t *testing.T, fx shootFixture, res *authv1alpha1.AdminKubeconfigRequest, before time.Time) *x509.Certificate {
	t.Helper()
	cfg, err := clientcmd.Load(res.Status.Kubeconfig)
	require.NoError(t, err)
	// Addresses filtered (no service-account-issuer) and ordered; first is current.
	assert.Equal(t, ns+"--prod-wildcard-tls-seed-bound", cfg.CurrentContext)
	require.Len(t, cfg.Clusters, 3)
	assert.Equal(t, "https://api.seed.example.com", cfg.Clusters[ns+"--prod-wildcard-tls-seed-bound"].Server)
	assert.Empty(t, cfg.Clusters[ns+"--prod-wildcard-tls-seed-bound"].CertificateAuthorityData, "publicly trusted: no CA data")
	assert.Equal(t, pki.EncodeCert(fx.clusterCA.Cert), cfg.Clusters[ns+"--prod-internal"].CertificateAuthorityData)
	assert.Equal(t, "https://api.example.com", cfg.Clusters[ns+"--prod-external"].Server)
	assert.NotContains(t, cfg.Clusters, ns+"--prod-service-account-issuer")

	cert := clientCert(t, res.Status.Kubeconfig)
	pool := x509.NewCertPool()
	pool.AddCert(fx.clientCA.Cert)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err, "the client certificate chains to the CA in prod.ca-client")
	// alice may issue in every namespace (standalone: system:masters): a system admin, never system:masters itself.
	assert.Equal(t, "gardener.cloud:admin:alice", cert.Subject.CommonName)
	assert.Equal(t, []string{"gardener.cloud:system:admins"}, cert.Subject.Organization)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, cert.ExtKeyUsage)
	assertExpiresIn(t, before, 1200*time.Second, cert.NotAfter)
	assert.True(t, cert.NotAfter.Equal(res.Status.ExpirationTimestamp.Time), "expirationTimestamp is the certificate's NotAfter")
	assert.GreaterOrEqual(t, cert.SerialNumber.BitLen(), 64, "random serial")
	// Default flags: the key as Gardener issues it, which gardenlogin requires.
	blocks, bits, err := fixture.ClientKeyBlocks(cfg)
	require.NoError(t, err)
	assert.Equal(t, []string{"RSA PRIVATE KEY"}, blocks)
	assert.Equal(t, 3072, bits)

	return cert
}

// assertAuditedWithoutKey: the audit log records the issuance of cert, never the key or the kubeconfig.
func assertAuditedWithoutKey(t *testing.T, auditLog string, cert *x509.Certificate, kubeconfig []byte) {
	t.Helper()
	raw, err := os.ReadFile(auditLog)
	require.NoError(t, err)
	assert.Contains(t, string(raw), cert.SerialNumber.Text(16))
	assert.Contains(t, string(raw), `"kubeconfig.gardener.cloud/shoot":"`+ns+`/prod"`)
	assert.Contains(t, string(raw), `"kubeconfig.gardener.cloud/group":"gardener.cloud:system:admins"`)
	assert.Contains(t, string(raw), `"username":"alice"`)
	assert.NotContains(t, string(raw), "PRIVATE KEY")
	assert.NotContains(t, string(raw), string(kubeconfig[:40]))

}

func TestAdminKubeconfigErrors(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	shoots := s.Client.CoreV1beta1().Shoots(ns)
	createShoot(t, s.Client, "ok", external)

	for name, seconds := range map[string]int64{"too short": 599, "too long": 1 << 32} {
		_, err := shoots.CreateAdminKubeconfigRequest(ctx, "ok", adminRequest(&seconds), metav1.CreateOptions{})
		requireInvalid(t, err, "spec.expirationSeconds")
		if name == "too short" {
			assert.Contains(t, err.Error(), "may not specify a duration less than 10 minutes")
		}
	}

	_, err := shoots.CreateAdminKubeconfigRequest(ctx, "missing", adminRequest(nil), metav1.CreateOptions{})
	assert.True(t, apierrors.IsNotFound(err), "missing shoot is 404, got %v", err)

	// No usable address: only the issuer.
	createShoot(t, s.Client, "noaddr", issuer)
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "noaddr", adminRequest(nil), metav1.CreateOptions{})
	requireInvalid(t, err, "status.advertisedAddresses")

	assertBadClientCAIs500(t, s)

	// Unauthorized user: 403 from the authorizer.
	bob, err := versioned.NewForConfig(s.UserConfig(t, "bob", "developers"))
	require.NoError(t, err)
	_, err = bob.CoreV1beta1().Shoots(ns).CreateAdminKubeconfigRequest(ctx, "ok", adminRequest(nil), metav1.CreateOptions{})
	assert.True(t, apierrors.IsForbidden(err), "got %v", err)
	assert.Contains(t, err.Error(), "shoots/adminkubeconfig")

	// A body of the wrong kind is 400.
	var code int
	body, _ := json.Marshal(map[string]interface{}{"apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot", "metadata": map[string]string{"name": "ok"}})
	s.Client.CoreV1beta1().RESTClient().Post().Namespace(ns).Resource("shoots").Name("ok").SubResource("adminkubeconfig").
		Body(body).Do(ctx).StatusCode(&code)
	assert.Equal(t, 400, code)
}

// assertBadClientCAIs500: a shoot "noca" whose client CA is missing, garbage, or not a CA gets
// 500 naming the InternalSecret, never its contents.
func assertBadClientCAIs500(t *testing.T, s *framework.Server) {
	t.Helper()
	// Missing client CA: 500 naming the secret.
	ctx := context.Background()
	shoots := s.Client.CoreV1beta1().Shoots(ns)
	_, err := shoots.Create(ctx, &corev1beta1.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "noca", Namespace: ns},
		Spec: corev1beta1.ShootSpec{Kubernetes: corev1beta1.Kubernetes{Version: "1.31.0"}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	noca, err := shoots.Get(ctx, "noca", metav1.GetOptions{})
	require.NoError(t, err)
	noca.Status.AdvertisedAddresses = []corev1beta1.ShootAdvertisedAddress{external}
	_, err = shoots.UpdateStatus(ctx, noca, metav1.UpdateOptions{})
	require.NoError(t, err)
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "noca", adminRequest(nil), metav1.CreateOptions{})
	require.True(t, apierrors.IsInternalError(err), "got %v", err)
	assert.Contains(t, err.Error(), ns+"/noca.ca-client")

	// Garbage CA: 500 naming the secret, never its contents.
	garbage := "not-a-key-SECRETMARKER"
	_, err = s.Client.CoreV1beta1().InternalSecrets(ns).Create(ctx, &corev1beta1.InternalSecret{
		ObjectMeta: metav1.ObjectMeta{Name: "noca.ca-client", Namespace: ns},
		Data:       map[string][]byte{"ca.crt": []byte("garbage"), "ca.key": []byte(garbage)}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "noca", adminRequest(nil), metav1.CreateOptions{})
	require.True(t, apierrors.IsInternalError(err), "got %v", err)
	assert.Contains(t, err.Error(), ns+"/noca.ca-client")
	assert.NotContains(t, err.Error(), "SECRETMARKER")

	// A CA certificate that is not a CA.
	notCA, err := pki.NewCA("x", time.Hour)
	require.NoError(t, err)
	leafKey, err := pki.NewKey(pki.ECDSAP256)
	require.NoError(t, err)
	leaf, leafPEM, err := notCA.Issue(pki.Leaf{CommonName: "leaf", NotAfter: time.Now().Add(time.Hour)}, leafKey.Public())
	require.NoError(t, err)
	_ = leaf
	leafKeyPEM, err := pki.EncodeKey(leafKey)
	require.NoError(t, err)
	ins, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(ctx, "noca.ca-client", metav1.GetOptions{})
	require.NoError(t, err)
	ins.Data = map[string][]byte{"ca.crt": leafPEM, "ca.key": leafKeyPEM}
	_, err = s.Client.CoreV1beta1().InternalSecrets(ns).Update(ctx, ins, metav1.UpdateOptions{})
	require.NoError(t, err)
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "noca", adminRequest(nil), metav1.CreateOptions{})
	require.True(t, apierrors.IsInternalError(err), "got %v", err)
	assert.Contains(t, err.Error(), "is not a CA")
}

func TestAdminKubeconfigCARotation(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	fx := createShoot(t, s.Client, "rot", external)

	// ca.crt becomes a bundle [new, old] while ca.key is still the old key: sign with old.
	newCA, err := pki.NewCA("new-ca", time.Hour)
	require.NoError(t, err)
	sec, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(ctx, "rot.ca-client", metav1.GetOptions{})
	require.NoError(t, err)
	sec.Data["ca.crt"] = bytes.Join([][]byte{pki.EncodeCert(newCA.Cert), pki.EncodeCert(fx.clientCA.Cert)}, nil)
	_, err = s.Client.CoreV1beta1().InternalSecrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
	require.NoError(t, err)

	verifyIssuer := func(want *pki.CA) {
		t.Helper()
		// The CA cache is keyed by resourceVersion: poll until the watch cache has the update.
		require.Eventually(t, func() bool {
			res, err := s.Client.CoreV1beta1().Shoots(ns).CreateAdminKubeconfigRequest(ctx, "rot", adminRequest(nil), metav1.CreateOptions{})
			require.NoError(t, err)
			cert := clientCert(t, res.Status.Kubeconfig)
			return cert.CheckSignatureFrom(want.Cert) == nil
		}, 10*time.Second, 100*time.Millisecond)
	}
	verifyIssuer(fx.clientCA)

	// Then the key moves to the new CA: sign with new.
	sec, err = s.Client.CoreV1beta1().InternalSecrets(ns).Get(ctx, "rot.ca-client", metav1.GetOptions{})
	require.NoError(t, err)
	sec.Data["ca.key"], err = pki.EncodeKey(newCA.Key)
	require.NoError(t, err)
	_, err = s.Client.CoreV1beta1().InternalSecrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
	require.NoError(t, err)
	verifyIssuer(newCA)
	assert.False(t, strings.Contains(string(sec.Data["ca.crt"]), "PRIVATE"))
}

// assertExpiresIn checks that an expiry granted for d by a request sent at
// sent lies between sent+d and now+d: the bounds hold however slow the
// machine is. One second of slack covers certificate times in whole seconds.
func assertExpiresIn(t *testing.T, sent time.Time, d time.Duration, got time.Time) {
	t.Helper()
	lo, hi := sent.Add(d).Add(-time.Second), time.Now().Add(d).Add(time.Second)
	assert.Truef(t, !got.Before(lo) && !got.After(hi), "expiry %s not within [%s, %s]", got, lo, hi)
}
