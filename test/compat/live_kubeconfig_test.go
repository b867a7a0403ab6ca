package compat

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	gardenauthv1alpha1 "github.com/gardener/gardener/pkg/apis/authentication/v1alpha1"
	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// TestGardenerClientKubeconfigRequests issues admin and viewer kubeconfigs the way Gardener's
// documentation and its e2e tests do: SubResource("adminkubeconfig").Create with Gardener's request
// types (which Gardener's garden scheme does not even register). The shoot's CAs are written as
// InternalSecrets through the same client, as Gardener's components write them.
func TestGardenerClientKubeconfigRequests(t *testing.T) {
	for _, mode := range clientModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx := context.Background()
			c, rec := newGardenClient(t, mode.contentType)
			shoot := newShoot("garden-compat-kubeconfig-"+mode.name, "access")
			require.NoError(t, c.Create(ctx, shoot))
			shoot.Status.AdvertisedAddresses = []gardencorev1beta1.ShootAdvertisedAddress{
				{Name: "external", URL: "https://api.access.example.test"},
				{Name: "internal", URL: "https://api.access.internal.example.test:8443"},
			}
			require.NoError(t, c.Status().Update(ctx, shoot))
			clientCA, clusterCAPEM := createCAs(t, c, shoot)

			admin := &gardenauthv1alpha1.AdminKubeconfigRequest{Spec: gardenauthv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}
			require.NoError(t, c.SubResource("adminkubeconfig").Create(ctx, shoot, admin))
			requireKubeconfig(t, shoot, admin.Status.Kubeconfig, admin.Status.ExpirationTimestamp, clientCA, clusterCAPEM, "gardener.cloud:admin:")

			viewer := &gardenauthv1alpha1.ViewerKubeconfigRequest{Spec: gardenauthv1alpha1.ViewerKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}
			require.NoError(t, c.SubResource("viewerkubeconfig").Create(ctx, shoot, viewer))
			requireKubeconfig(t, shoot, viewer.Status.Kubeconfig, viewer.Status.ExpirationTimestamp, clientCA, clusterCAPEM, "gardener.cloud:viewer:")

			deleteShoot(t, c, shoot)
			rec.requireMediaType(t, mode.contentType)
		})
	}
}

// createCAs writes <shoot>.ca-client (certificate and key) and <shoot>.ca-cluster (certificate).
func createCAs(t *testing.T, c client.Client, shoot *gardencorev1beta1.Shoot) (*x509.Certificate, []byte) {
	t.Helper()
	clientCA, err := pki.NewCA(shoot.Name+".ca-client", 24*time.Hour)
	require.NoError(t, err)
	clusterCA, err := pki.NewCA(shoot.Name+".ca-cluster", 24*time.Hour)
	require.NoError(t, err)
	keyPEM, err := pki.EncodeKey(clientCA.Key)
	require.NoError(t, err)
	clusterPEM := pki.EncodeCert(clusterCA.Cert)
	for name, data := range map[string]map[string][]byte{
		shoot.Name + ".ca-client":  {"ca.crt": pki.EncodeCert(clientCA.Cert), "ca.key": keyPEM},
		shoot.Name + ".ca-cluster": {"ca.crt": clusterPEM},
	} {
		s := &gardencorev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: shoot.Namespace}, Data: data}
		require.NoError(t, c.Create(context.Background(), s))
	}
	return clientCA.Cert, clusterPEM
}

// requireKubeconfig checks an issued kubeconfig: one cluster per advertised address with the
// cluster CA, a client certificate of the shoot's client CA with the expected subject, and the
// granted expiry.
func requireKubeconfig(t *testing.T, shoot *gardencorev1beta1.Shoot, kubeconfig []byte, expires metav1.Time, clientCA *x509.Certificate, clusterCAPEM []byte, cnPrefix string) {
	t.Helper()
	require.WithinDuration(t, time.Now().Add(600*time.Second), expires.Time, time.Minute, "expirationTimestamp")
	cfg, err := clientcmd.Load(kubeconfig)
	require.NoError(t, err, "status.kubeconfig is a kubeconfig")
	prefix := shoot.Namespace + "--" + shoot.Name + "-"
	require.Equal(t, prefix+"external", cfg.CurrentContext)
	require.Equal(t, "https://api.access.example.test", cfg.Clusters[prefix+"external"].Server)
	require.Equal(t, "https://api.access.internal.example.test:8443", cfg.Clusters[prefix+"internal"].Server)
	require.Equal(t, clusterCAPEM, cfg.Clusters[prefix+"external"].CertificateAuthorityData)
	user := cfg.AuthInfos[prefix+"external"]
	require.NotNil(t, user, "the user entry")
	block, _ := pem.Decode(user.ClientCertificateData)
	require.NotNil(t, block, "a PEM client certificate")
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(clientCA)
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err, "the client certificate chains to <shoot>.ca-client")
	require.True(t, strings.HasPrefix(cert.Subject.CommonName, cnPrefix), "CN %q", cert.Subject.CommonName)
	require.NotEmpty(t, user.ClientKeyData)
}
