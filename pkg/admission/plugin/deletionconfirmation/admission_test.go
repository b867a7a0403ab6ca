package deletionconfirmation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/fake"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/informers/externalversions"
)

const ns = "garden-dev"

func shoot(name string, annotations map[string]string) *core.Shoot {
	return &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations}}
}

func external(name string, annotations map[string]string) *v1beta1.Shoot {
	return &v1beta1.Shoot{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations}}
}

var yes = map[string]string{Annotation: "true"}

func deleteAttrs(name string, stored runtime.Object, resource, subresource string) admission.Attributes {
	return admission.NewAttributesRecord(nil, stored, core.Kind("Shoot").WithVersion("v1beta1"), ns, name,
		core.Resource(resource).WithVersion("v1beta1"), subresource, admission.Delete, &metav1.DeleteOptions{}, false,
		&user.DefaultInfo{Name: "alice"})
}

// newPlugin builds the plugin on a started informer whose cache holds cached, while live
// reads see live (they differ when the cache lags behind the storage).
func newPlugin(t *testing.T, cached, live []runtime.Object) *Plugin {
	t.Helper()
	p := New()
	factory := externalversions.NewSharedInformerFactory(fake.NewSimpleClientset(cached...), 0)
	p.SetCoreInformerFactory(factory)
	p.SetCoreClientSet(fake.NewSimpleClientset(live...))
	require.NoError(t, p.ValidateInitialization())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return p
}

// validateCase is a delete the plugin sees with the given informer cache and live objects.
type validateCase struct {
	name      string
	attrs     admission.Attributes
	cached    []runtime.Object
	live      []runtime.Object
	forbidden []string // substrings of the 403 message; empty means admitted
}

var validateCases = []validateCase{
	{
		name:  "confirmed shoot is deleted",
		attrs: deleteAttrs("a", shoot("a", yes), "shoots", ""),
	},
	{
		name:  "confirmation accepts any true boolean spelling",
		attrs: deleteAttrs("a", shoot("a", map[string]string{Annotation: "True"}), "shoots", ""),
	},
	{
		name:      "unconfirmed shoot is refused with instructions",
		attrs:     deleteAttrs("a", shoot("a", nil), "shoots", ""),
		forbidden: []string{`shoots.core.gardener.cloud "a" is forbidden`, "not confirmed", "kubectl annotate shoot a -n garden-dev confirmation.gardener.cloud/deletion=true"},
	},
	{
		name:      "annotation false is not a confirmation",
		attrs:     deleteAttrs("a", shoot("a", map[string]string{Annotation: "false"}), "shoots", ""),
		forbidden: []string{"not confirmed"},
	},
	{
		name:  "other resources are not guarded",
		attrs: deleteAttrs("s", &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: ns}}, "internalsecrets", ""),
	},
	{
		name:  "subresources are not guarded",
		attrs: deleteAttrs("a", shoot("a", nil), "shoots", "status"),
	},
	{
		name:   "collection item is deleted when every shoot of the namespace is confirmed",
		attrs:  deleteAttrs("", shoot("a", yes), "shoots", ""),
		cached: []runtime.Object{external("a", yes), external("b", yes)},
	},
	{
		name:      "collection item is refused when another shoot is unconfirmed",
		attrs:     deleteAttrs("", shoot("a", yes), "shoots", ""),
		cached:    []runtime.Object{external("a", yes), external("b", nil), external("c", nil)},
		live:      []runtime.Object{external("a", yes), external("b", nil), external("c", nil)},
		forbidden: []string{`shoots.core.gardener.cloud "a" is forbidden`, `every Shoot in namespace "garden-dev"`, "not confirmed: b, c"},
	},
	{
		name:      "unconfirmed collection item is refused by itself",
		attrs:     deleteAttrs("", shoot("b", nil), "shoots", ""),
		cached:    []runtime.Object{external("b", yes)},
		forbidden: []string{`"b" is forbidden`, "deletion of Shoot garden-dev/b is not confirmed"},
	},
	{
		name:   "a confirmation the cache has not seen yet is found by a live read",
		attrs:  deleteAttrs("", shoot("a", yes), "shoots", ""),
		cached: []runtime.Object{external("a", yes), external("b", nil)},
		live:   []runtime.Object{external("a", yes), external("b", yes)},
	},
	{
		name:   "a shoot deleted meanwhile does not block the collection",
		attrs:  deleteAttrs("", shoot("a", yes), "shoots", ""),
		cached: []runtime.Object{external("a", yes), external("gone", nil)},
		live:   []runtime.Object{external("a", yes)},
	},
}

func TestValidate(t *testing.T) {
	for _, tt := range validateCases {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlugin(t, tt.cached, tt.live)
			require.True(t, p.Handles(admission.Delete))
			err := p.Validate(context.Background(), tt.attrs, nil)
			if len(tt.forbidden) == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, apierrors.IsForbidden(err), "want 403, got %v", err)
			for _, s := range tt.forbidden {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestHandledOperations(t *testing.T) {
	p := New()
	for _, op := range []admission.Operation{admission.Create, admission.Update, admission.Delete} {
		assert.True(t, p.Handles(op), op)
	}
	assert.False(t, p.Handles(admission.Connect))
	// Writes are the mutating half's: validation refuses only deletes.
	for _, op := range []admission.Operation{admission.Create, admission.Update} {
		attrs := admission.NewAttributesRecord(shoot("a", nil), shoot("a", nil), core.Kind("Shoot").WithVersion("v1beta1"), ns, "a",
			core.Resource("shoots").WithVersion("v1beta1"), "", op, nil, false, &user.DefaultInfo{Name: "alice"})
		assert.NoError(t, p.Validate(context.Background(), attrs, nil), op)
	}
}

func TestCollectionWaitsForCache(t *testing.T) {
	p := New()
	// Never started: the cache never syncs, so a collection cannot be checked.
	p.SetCoreInformerFactory(externalversions.NewSharedInformerFactory(fake.NewSimpleClientset(), 0))
	p.SetCoreClientSet(fake.NewSimpleClientset())
	start := time.Now()
	err := p.Validate(context.Background(), deleteAttrs("", shoot("a", yes), "shoots", ""), nil)
	assert.True(t, apierrors.IsForbidden(err), "want 403, got %v", err)
	assert.Contains(t, err.Error(), "not yet ready")
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Second, "waits for the cache before giving up")
}

func TestValidateInitialization(t *testing.T) {
	assert.ErrorContains(t, New().ValidateInitialization(), "missing shoot lister")
}
