package admission

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	genericinitializer "k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// The generic ResourceQuota plugin, initialized as in delegated mode, counts our resources.
func TestResourceQuotaCountsOurResources(t *testing.T) {
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "objects", Namespace: "garden-dev"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/internalsecrets.core.gardener.cloud": resource.MustParse("1")}},
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{"count/internalsecrets.core.gardener.cloud": resource.MustParse("1")},
			Used: corev1.ResourceList{"count/internalsecrets.core.gardener.cloud": resource.MustParse("1")},
		},
	}
	client := fake.NewSimpleClientset(quota)
	factory := informers.NewSharedInformerFactory(client, 0)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	plugin, err := resourcequota.NewResourceQuota(nil, 1)
	require.NoError(t, err)
	k8sadmission.PluginInitializers{
		genericinitializer.New(client, nil, factory, nil, nil, nil, ctx.Done(), nil),
		QuotaInitializer(),
	}.Initialize(plugin)
	require.NoError(t, plugin.ValidateInitialization())
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())

	create := func(resourceName, subresource string, obj interface{ GetName() string }) error {
		return plugin.Validate(ctx, k8sadmission.NewAttributesRecord(obj.(runtime.Object), nil, core.Kind("InternalSecret").WithVersion("v1beta1"),
			"garden-dev", obj.GetName(), core.Resource(resourceName).WithVersion("v1beta1"), subresource, k8sadmission.Create,
			&metav1.CreateOptions{}, false, &user.DefaultInfo{Name: "alice"}), nil)
	}
	err = create("internalsecrets", "", &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "two", Namespace: "garden-dev"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exceeded quota: objects, requested: count/internalsecrets.core.gardener.cloud=1, used: count/internalsecrets.core.gardener.cloud=1, limited: count/internalsecrets.core.gardener.cloud=1")
	// Shoots have no quota here.
	require.NoError(t, create("shoots", "", &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "garden-dev"}}))
}
