package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
)

const namespace = "garden-dev"

// stored are the objects as the previous build returned them after writing.
type stored struct {
	secrets []v1beta1.InternalSecret
	shoots  []v1beta1.Shoot
}

func internalSecrets() []*v1beta1.InternalSecret {
	return []*v1beta1.InternalSecret{
		{ObjectMeta: metav1.ObjectMeta{Name: "immutable", Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"c": "d"}},
			Immutable: ptr.To(true), Data: map[string][]byte{"key": []byte("value"), "bin": {0, 1, 2, 255}}, Type: "garden.test/custom"},
		{ObjectMeta: metav1.ObjectMeta{Name: "mutable"}, Immutable: ptr.To(false),
			Data: map[string][]byte{"tls.crt": []byte("crt"), "tls.key": []byte("key")}, Type: corev1.SecretTypeTLS},
		{ObjectMeta: metav1.ObjectMeta{Name: "defaults"}, Data: map[string][]byte{"only": []byte("x")}},
	}
}

func timeAt(sec int) *metav1.Time {
	t := metav1.NewTime(time.Date(2026, 3, 4, 5, 6, sec, 0, time.UTC))
	return &t
}

func shoot(name string, hibernated bool) *v1beta1.Shoot {
	provider := v1beta1.EncryptionProviderTypeAESGCM
	return &v1beta1.Shoot{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"project": "dev"}},
		Spec: v1beta1.ShootSpec{
			Hibernation: &v1beta1.Hibernation{Enabled: ptr.To(hibernated)},
			Kubernetes: v1beta1.Kubernetes{Version: "1.31.2", KubeAPIServer: &v1beta1.KubeAPIServerConfig{
				EncryptionConfig: &v1beta1.EncryptionConfig{Resources: []string{"configmaps", "jobs.batch"}, Provider: v1beta1.EncryptionProvider{Type: &provider}}}},
		},
	}
}

// shootStatus sets every status field; the two rotation timestamps differ, so a swap shows.
func shootStatus(s *v1beta1.Shoot, hibernated bool) {
	s.Status = v1beta1.ShootStatus{
		AdvertisedAddresses: []v1beta1.ShootAdvertisedAddress{{Name: "external", URL: "https://api.ext.example"}, {Name: "internal", URL: "https://api.int.example"}},
		Credentials: &v1beta1.ShootCredentials{
			Rotation: &v1beta1.ShootCredentialsRotation{ETCDEncryptionKey: &v1beta1.ETCDEncryptionKeyRotation{
				Phase: v1beta1.RotationCompleted, LastInitiationTime: timeAt(10), LastCompletionTime: timeAt(20)}},
			EncryptionAtRest: &v1beta1.EncryptionAtRest{Resources: []string{"configmaps", "jobs.batch"}, Provider: v1beta1.EncryptionProviderStatus{Type: "aesgcm"}},
		},
		IsHibernated:       hibernated,
		LastOperation:      &v1beta1.LastOperation{Description: "reconciled", LastUpdateTime: *timeAt(30), Progress: 100, State: "Succeeded", Type: "Reconcile"},
		ObservedGeneration: s.Generation,
	}
}

// writeObjects creates the objects through s and returns them as s returned them.
func writeObjects(t *testing.T, s *server) stored {
	t.Helper()
	ctx := context.Background()
	var out stored
	for _, in := range internalSecrets() {
		got, err := s.client.CoreV1beta1().InternalSecrets(namespace).Create(ctx, in, metav1.CreateOptions{})
		require.NoError(t, err, in.Name)
		out.secrets = append(out.secrets, *got)
	}
	for i, hibernated := range []bool{true, false} {
		created, err := s.client.CoreV1beta1().Shoots(namespace).Create(ctx, shoot(fmt.Sprintf("shoot-%d", i), hibernated), metav1.CreateOptions{})
		require.NoError(t, err)
		shootStatus(created, hibernated)
		got, err := s.client.CoreV1beta1().Shoots(namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
		require.NoError(t, err)
		// As JSON: the status sent holds times in UTC, the decoded one in time.Local.
		require.JSONEq(t, toJSON(t, created.Status), toJSON(t, got.Status), "the previous build kept every status field")
		out.shoots = append(out.shoots, *got)
	}
	return out
}

// requireSame reads every object through s and compares every field with what was stored;
// resourceVersion only when sameVersion (the rewrite changes it and nothing else).
func requireSame(t *testing.T, s *server, want stored, sameVersion bool) {
	t.Helper()
	ctx := context.Background()
	for _, w := range want.secrets {
		got, err := s.client.CoreV1beta1().InternalSecrets(namespace).Get(ctx, w.Name, metav1.GetOptions{})
		require.NoError(t, err)
		if !sameVersion {
			got.ResourceVersion = w.ResourceVersion
		}
		require.Equal(t, w, *got, "InternalSecret %s", w.Name)
	}
	for _, w := range want.shoots {
		got, err := s.client.CoreV1beta1().Shoots(namespace).Get(ctx, w.Name, metav1.GetOptions{})
		require.NoError(t, err)
		if !sameVersion {
			got.ResourceVersion = w.ResourceVersion
		}
		require.Equal(t, w, *got, "Shoot %s", w.Name)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
