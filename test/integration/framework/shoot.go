package framework

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/pkg/shootaccess"
)

// ShootVersion is the Kubernetes version of every test shoot.
const ShootVersion = "1.31.2"

// NewShoot returns a valid Shoot; resources, when given, go to its encryption config.
func NewShoot(namespace, name string, resources ...string) *corev1beta1.Shoot {
	s := &corev1beta1.Shoot{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1beta1.ShootSpec{Kubernetes: corev1beta1.Kubernetes{Version: ShootVersion}}}
	if resources != nil {
		s.Spec.Kubernetes.KubeAPIServer = &corev1beta1.KubeAPIServerConfig{
			EncryptionConfig: &corev1beta1.EncryptionConfig{Resources: resources}}
	}
	return s
}

// CreateShoot stores NewShoot(namespace, name, resources...).
func CreateShoot(t testing.TB, c versioned.Interface, namespace, name string, resources ...string) *corev1beta1.Shoot {
	t.Helper()
	created, err := c.CoreV1beta1().Shoots(namespace).Create(context.Background(), NewShoot(namespace, name, resources...), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// ShootCAs are the two CAs of a shoot, stored as the InternalSecrets the kubeconfig
// subresources read.
type ShootCAs struct {
	Client, Cluster *pki.CA
}

// CreateShootCAs generates both CAs of the shoot and stores them: <shoot>.ca-client with its
// key, <shoot>.ca-cluster without.
func CreateShootCAs(t testing.TB, c versioned.Interface, namespace, shoot string) ShootCAs {
	t.Helper()
	var cas ShootCAs
	var err error
	if cas.Client, err = pki.NewCA("client-ca-"+shoot, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if cas.Cluster, err = pki.NewCA("cluster-ca-"+shoot, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	PutCA(t, c, namespace, shoot+shootaccess.ClientCASuffix, cas.Client, true)
	PutCA(t, c, namespace, shoot+shootaccess.ClusterCASuffix, cas.Cluster, false)
	return cas
}

// CASecretData is the data of a CA InternalSecret: ca.crt, and ca.key when withKey.
func CASecretData(t testing.TB, ca *pki.CA, withKey bool) map[string][]byte {
	t.Helper()
	data := map[string][]byte{shootaccess.CACertKey: pki.EncodeCert(ca.Cert)}
	if withKey {
		key, err := pki.EncodeKey(ca.Key)
		if err != nil {
			t.Fatal(err)
		}
		data[shootaccess.CAKeyKey] = key
	}
	return data
}

// PutCA stores ca as the InternalSecret namespace/name.
func PutCA(t testing.TB, c versioned.Interface, namespace, name string, ca *pki.CA, withKey bool) {
	t.Helper()
	_, err := c.CoreV1beta1().InternalSecrets(namespace).Create(context.Background(), &corev1beta1.InternalSecret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Data: CASecretData(t, ca, withKey),
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}
