package admission

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/sets"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	utilfeature "k8s.io/apiserver/pkg/util/feature"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/initializer"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/fake"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/informers/externalversions"
)

func newOptions() *genericoptions.RecommendedOptions {
	o := genericoptions.NewRecommendedOptions("/registry-gardener", nil)
	Configure(o)
	return o
}

func TestConfigure(t *testing.T) {
	o := newOptions()
	assert.Empty(t, o.Admission.Validate(), "every registered plugin has a place in the order")
	assert.Equal(t, sets.New(AllOrderedPlugins...), sets.New(o.Admission.Plugins.Registered()...))
	assert.Equal(t, AllOrderedPlugins, enabledPluginNames(o.Admission), "all plugins are on by default")
}

func TestEnabledPluginNames(t *testing.T) {
	a := newOptions().Admission
	a.DisablePlugins = []string{"DeletionConfirmation", "ValidatingAdmissionWebhook"}
	assert.Equal(t, []string{"NamespaceLifecycle", "MutatingAdmissionPolicy", "MutatingAdmissionWebhook",
		"InternalSecretReferenceProtection", "ShootValidator", "InternalSecretLimit", "ValidatingAdmissionPolicy", "ResourceQuota"}, enabledPluginNames(a))

	a.DefaultOffPlugins = sets.New("ShootValidator")
	a.EnablePlugins = []string{"ShootValidator"}
	assert.Contains(t, enabledPluginNames(a), "ShootValidator", "--enable-admission-plugins wins over default-off")
}

// standaloneChain builds the chain as standalone mode does, on informers of a fake clientset.
func standaloneChain(t *testing.T, a *genericoptions.AdmissionOptions) k8sadmission.Interface {
	t.Helper()
	c := genericapiserver.NewConfig(serializer.NewCodecFactory(runtime.NewScheme()))
	c.FeatureGate = utilfeature.DefaultFeatureGate
	client := fake.NewSimpleClientset()
	informers := externalversions.NewSharedInformerFactory(client, 0)
	require.NoError(t, ApplyStandalone(a, c, initializer.New(informers, client, nil, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	informers.Start(ctx.Done())
	informers.WaitForCacheSync(ctx.Done())
	return c.AdmissionControl
}

func deleteUnconfirmedShoot(chain k8sadmission.Interface) error {
	old := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "garden-dev"}}
	attrs := k8sadmission.NewAttributesRecord(nil, old, core.Kind("Shoot").WithVersion("v1beta1"), "garden-dev", "foo",
		core.Resource("shoots").WithVersion("v1beta1"), "", k8sadmission.Delete, &metav1.DeleteOptions{}, false, &user.DefaultInfo{Name: "alice"})
	return chain.(k8sadmission.ValidationInterface).Validate(context.Background(), attrs, nil)
}

func TestApplyStandalone(t *testing.T) {
	a := newOptions().Admission
	// Explicitly enabled kube-dependent plugins are still left out: with them the chain would
	// fail ValidateInitialization (no namespace informer, no webhook configurations).
	a.EnablePlugins = []string{"NamespaceLifecycle", "ValidatingAdmissionWebhook"}
	err := deleteUnconfirmedShoot(standaloneChain(t, a))
	assert.True(t, apierrors.IsForbidden(err), "DeletionConfirmation runs: want 403, got %v", err)

	a = newOptions().Admission
	a.DisablePlugins = []string{"DeletionConfirmation"}
	assert.NoError(t, deleteUnconfirmedShoot(standaloneChain(t, a)), "a disabled plugin is not in the chain")
}

func TestApplyStandaloneReadsPluginConfiguration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "admission.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: InternalSecretLimit
  configuration:
    apiVersion: internalsecretlimit.admission.gardener.cloud/v1alpha1
    kind: Configuration
    maxInternalSecretsPerNamespace: -3
`), 0o600))
	a := newOptions().Admission
	a.ConfigFile = file
	c := genericapiserver.NewConfig(serializer.NewCodecFactory(runtime.NewScheme()))
	c.FeatureGate = utilfeature.DefaultFeatureGate
	client := fake.NewSimpleClientset()
	err := ApplyStandalone(a, c, initializer.New(externalversions.NewSharedInformerFactory(client, 0), client, nil, nil))
	assert.ErrorContains(t, err, "maxInternalSecretsPerNamespace: Invalid value: -3", "the plugin's entry reaches the plugin")

	a.ConfigFile = filepath.Join(dir, "missing.yaml")
	assert.ErrorContains(t, ApplyStandalone(a, c), "--admission-control-config-file")
}
