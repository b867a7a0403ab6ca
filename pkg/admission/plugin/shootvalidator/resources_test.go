package shootvalidator

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/discovery"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
)

func resourceList(gv string, names ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{GroupVersion: gv}
	for _, n := range names {
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: n})
	}
	return l
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func clusterPlugin(d discovery.ServerResourcesInterfaceWithContext, c *clock) *Plugin {
	p := New()
	p.SetClusterDiscovery(d)
	p.resources.(*clusterResources).now = c.now
	return p
}

func TestClusterDiscovery(t *testing.T) {
	fake := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{
		resourceList("v1", "configmaps", "pods", "pods/status"),
		resourceList("apps/v1", "deployments"),
		resourceList("example.com/v1", "widgets"),
	}}}
	c := &clock{t: time.Unix(1000, 0)}
	p := clusterPlugin(fake, c)
	create := func(resources ...string) error {
		return p.Validate(context.Background(), attrs(admission.Create, newShoot("", resources...), nil, ""), nil)
	}

	// Custom resources the cluster serves are accepted.
	check(t, create("configmaps", "deployments.apps", "widgets.example.com"))
	check(t, create("gadgets.example.com"), `resources[0]: Invalid value: "gadgets.example.com"`, "the cluster does not serve this resource")
	check(t, create("pods/status"), "does not serve") // subresources are not resources
	// Allowlisted but not served by this cluster: the cluster decides.
	check(t, create("cronjobs.batch"), "does not serve")

	// A CRD installed after the last refresh is found once the refresh interval has passed.
	fake.Resources = append(fake.Resources, resourceList("example.com/v1", "gadgets"))
	check(t, create("gadgets.example.com"), "does not serve")
	c.t = c.t.Add(minRefresh + time.Second)
	check(t, create("gadgets.example.com"))
}

// partialDiscovery reports a failed aggregated group next to a good answer.
type partialDiscovery struct{ *fakediscovery.FakeDiscovery }

func (p partialDiscovery) ServerGroupsAndResourcesWithContext(ctx context.Context) ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	groups, lists, _ := p.FakeDiscovery.ServerGroupsAndResourcesWithContext(ctx)
	return groups, lists, &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{
		{Group: "metrics.k8s.io", Version: "v1beta1"}: errors.New("service unavailable"),
	}}
}

func TestDiscoveryFailures(t *testing.T) {
	fake := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{resourceList("v1", "configmaps")}}}
	p := clusterPlugin(partialDiscovery{fake}, &clock{})
	create := func(resources ...string) error {
		return p.Validate(context.Background(), attrs(admission.Create, newShoot("", resources...), nil, ""), nil)
	}
	// The groups that answered are used.
	check(t, create("configmaps"))
	err := create("pods.metrics.k8s.io")
	assert.True(t, apierrors.IsInternalError(err), "a failed group cannot be verified: want 500, got %v", err)
	assert.ErrorContains(t, err, `discovery of API group "metrics.k8s.io" failed`)

	broken := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}
	broken.AddReactor("get", "resource", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	err = clusterPlugin(broken, &clock{}).Validate(context.Background(), attrs(admission.Create, newShoot("", "configmaps"), nil, ""), nil)
	assert.True(t, apierrors.IsInternalError(err), "want 500, got %v", err)
	assert.ErrorContains(t, err, "discovery of the Kubernetes API failed")
}

// TestAllowlistIsDocumented keeps docs/admission.md and StandaloneAllowlist in sync.
func TestAllowlistIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../../docs/admission.md")
	require.NoError(t, err)
	for _, r := range StandaloneAllowlist.UnsortedList() {
		assert.True(t, strings.Contains(string(doc), "`"+r+"`"), "docs/admission.md does not list %s", r)
	}
}
