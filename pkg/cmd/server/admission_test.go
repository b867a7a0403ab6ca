package server

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
	k8sadmission "k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapiserver "k8s.io/apiserver/pkg/server"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/initializer"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/fake"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/informers/externalversions"
)

// standaloneChain builds the admission chain of completed standalone options as Config does,
// with the library's ApplyTo on a loopback connection that is never dialled, and our
// initializer on informers of a fake clientset.
func standaloneChain(t *testing.T, o *ServerOptions) (k8sadmission.Interface, error) {
	t.Helper()
	c := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	c.LoopbackClientConfig = &rest.Config{Host: "https://127.0.0.1:1"}
	c.FeatureGate = utilfeature.DefaultFeatureGate
	client := fake.NewSimpleClientset()
	informers := externalversions.NewSharedInformerFactory(client, 0)
	if err := o.applyAdmission(c, initializer.New(informers, client, nil, nil)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	informers.Start(ctx.Done())
	informers.WaitForCacheSync(ctx.Done())
	return c.AdmissionControl, nil
}

func shootAttributes(op k8sadmission.Operation) k8sadmission.Attributes {
	s := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "garden-dev"}}
	s.Spec.Kubernetes.Version = "1.31.2"
	var obj, old, opts runtime.Object = s, nil, &metav1.CreateOptions{}
	if op == k8sadmission.Delete {
		obj, old, opts = nil, s, &metav1.DeleteOptions{}
	}
	return k8sadmission.NewAttributesRecord(obj, old, core.Kind("Shoot").WithVersion("v1beta1"), s.Namespace, s.Name,
		core.Resource("shoots").WithVersion("v1beta1"), "", op, opts, false, &user.DefaultInfo{Name: "alice"})
}

func admit(chain k8sadmission.Interface, attrs k8sadmission.Attributes) error {
	ctx := context.Background()
	if err := chain.(k8sadmission.MutationInterface).Admit(ctx, attrs, nil); err != nil {
		return err
	}
	return chain.(k8sadmission.ValidationInterface).Validate(ctx, attrs, nil)
}

func TestStandaloneAdmissionChain(t *testing.T) {
	chain, err := standaloneChain(t, completedOptions(t, "--standalone"))
	require.NoError(t, err)
	// The cluster plugins are off: NamespaceLifecycle, webhooks and policies would refuse the
	// create, their informers never having synced.
	assert.NoError(t, admit(chain, shootAttributes(k8sadmission.Create)))
	err = admit(chain, shootAttributes(k8sadmission.Delete))
	assert.True(t, apierrors.IsForbidden(err), "DeletionConfirmation runs: want 403, got %v", err)

	chain, err = standaloneChain(t, completedOptions(t, "--standalone", "--disable-admission-plugins=DeletionConfirmation"))
	require.NoError(t, err)
	assert.NoError(t, admit(chain, shootAttributes(k8sadmission.Delete)), "a disabled plugin is not in the chain")
}

func TestStandaloneRefusesClusterPlugins(t *testing.T) {
	o := completedOptions(t, "--standalone", "--enable-admission-plugins=NamespaceLifecycle,ValidatingAdmissionWebhook")
	err := o.Validate()
	assert.ErrorContains(t, err, "--enable-admission-plugins: NamespaceLifecycle cannot run with --standalone: namespaces live in a kube-apiserver")
	assert.ErrorContains(t, err, "ValidatingAdmissionWebhook cannot run with --standalone")
}

func TestAdmissionReadsPluginConfiguration(t *testing.T) {
	file := filepath.Join(t.TempDir(), "admission.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: InternalSecretLimit
  configuration:
    apiVersion: internalsecretlimit.admission.gardener.cloud/v1alpha1
    kind: Configuration
    maxInternalSecretsPerNamespace: -3
`), 0o600))
	_, err := standaloneChain(t, completedOptions(t, "--standalone", "--admission-control-config-file="+file))
	assert.ErrorContains(t, err, "maxInternalSecretsPerNamespace: Invalid value: -3", "the plugin's entry reaches the plugin")

	_, err = standaloneChain(t, completedOptions(t, "--standalone", "--admission-control-config-file="+file+".missing"))
	assert.ErrorContains(t, err, "failed to read plugin config")
}
