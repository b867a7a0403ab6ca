package integration

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// warnings collects the Warning headers a client receives.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// TestKubeconfigDryRun: dryRun=All validates, authorizes and decides the group as usual, but
// takes no key, signs nothing, counts nothing as issued and returns no kubeconfig.
func TestKubeconfigDryRun(t *testing.T) {
	s := framework.Start(t, "", "--shoot-kubeconfig-key-pool-size=1", "--shoot-admin-kubeconfig-max-expiration=2h")
	ctx := context.Background()
	createShoot(t, s.Client, "dry", external)
	waitForPool(t, s, 1)
	cfg := s.UserConfig(t, "alice", "system:masters")
	seen := &warnings{}
	cfg.WarningHandler = seen
	alice, err := versioned.NewForConfig(cfg)
	require.NoError(t, err)
	shoots := alice.CoreV1beta1().Shoots(ns)
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	issued := s.Metric(t, "garden_apiserver_shoot_kubeconfig_issued_total")
	generated, misses := s.Metric(t, poolGenerated), s.Metric(t, poolMisses)

	before := time.Now()
	admin, err := shoots.CreateAdminKubeconfigRequest(ctx, "dry", adminRequest(ptr.To[int64](86400)), dry)
	require.NoError(t, err)
	assert.Empty(t, admin.Status.Kubeconfig, "no kubeconfig in a dry run")
	assertExpiresIn(t, before, 2*time.Hour, admin.Status.ExpirationTimestamp.Time) // the clamped validity that would have been granted
	w := seen.take()
	require.Len(t, w, 1)
	assert.True(t, strings.HasPrefix(w[0], "dry run: no kubeconfig was issued"), w[0])
	assert.Contains(t, w[0], "gardener.cloud:system:admins", "the group is decided as usual")

	before = time.Now()
	viewer, err := shoots.CreateViewerKubeconfigRequest(ctx, "dry", &authv1alpha1.ViewerKubeconfigRequest{}, dry)
	require.NoError(t, err)
	assert.Empty(t, viewer.Status.Kubeconfig)
	assertExpiresIn(t, before, time.Hour, viewer.Status.ExpirationTimestamp.Time)
	w = seen.take()
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "gardener.cloud:system:viewers")

	assert.Equal(t, issued, s.Metric(t, "garden_apiserver_shoot_kubeconfig_issued_total"), "nothing counted as issued")
	assert.Equal(t, 1.0, s.Metric(t, poolKeys), "no key taken from the pool")
	assert.Equal(t, generated, s.Metric(t, poolGenerated))
	assert.Equal(t, misses, s.Metric(t, poolMisses), "no key generated")

	// Validation, authorization and the shoot's checks apply as usual.
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "dry", adminRequest(ptr.To[int64](60)), dry)
	assert.True(t, apierrors.IsInvalid(err), "got %v", err)
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "missing", adminRequest(nil), dry)
	assert.True(t, apierrors.IsNotFound(err), "got %v", err)
	bob, err := versioned.NewForConfig(s.UserConfig(t, "bob", "developers"))
	require.NoError(t, err)
	_, err = bob.CoreV1beta1().Shoots(ns).CreateAdminKubeconfigRequest(ctx, "dry", adminRequest(nil), dry)
	assert.True(t, apierrors.IsForbidden(err), "got %v", err)
}
