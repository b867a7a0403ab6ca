package internalsecretreferenceprotection

import (
	"context"
	"testing"

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

func secret(name string, keys ...string) *core.InternalSecret {
	s := &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for _, k := range keys {
		s.Data[k] = []byte("value of " + k)
	}
	return s
}

func shoot(name string, deleting bool) *v1beta1.Shoot {
	s := &v1beta1.Shoot{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if deleting {
		s.DeletionTimestamp = &metav1.Time{}
		s.Finalizers = []string{"gardener"}
	}
	return s
}

func attrs(op admission.Operation, name string, obj, old runtime.Object) admission.Attributes {
	return admission.NewAttributesRecord(obj, old, core.Kind("InternalSecret").WithVersion("v1beta1"), ns, name,
		core.Resource("internalsecrets").WithVersion("v1beta1"), "", op, nil, false, &user.DefaultInfo{Name: "alice"})
}

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

// validateCase is a request the plugin sees with the given informer cache and live objects.
type validateCase struct {
	name         string
	attrs        admission.Attributes
	cached, live []runtime.Object
	forbidden    []string // substrings of the 403 message; empty means admitted
}

var (
	fooShoot  = []runtime.Object{shoot("foo", false)}
	fullCA    = secret("foo.ca-client", "ca.crt", "ca.key")
	emptiedCA = func() *core.InternalSecret {
		s := secret("foo.ca-client", "ca.crt")
		s.Data["ca.key"] = nil
		return s
	}()
)

var validateCases = []validateCase{
	{
		name:      "client CA of an existing shoot cannot be deleted",
		attrs:     attrs(admission.Delete, "foo.ca-client", nil, fullCA),
		cached:    fooShoot,
		forbidden: []string{`internalsecrets.core.gardener.cloud "foo.ca-client" is forbidden`, `client CA of Shoot "foo"`, "cannot be deleted while the Shoot exists"},
	},
	{
		name:      "cluster CA of an existing shoot cannot be deleted",
		attrs:     attrs(admission.Delete, "foo.ca-cluster", nil, secret("foo.ca-cluster", "ca.crt")),
		cached:    fooShoot,
		forbidden: []string{`cluster CA of Shoot "foo"`},
	},
	{
		name:      "collection items are named in the error",
		attrs:     attrs(admission.Delete, "", nil, fullCA),
		cached:    fooShoot,
		forbidden: []string{`"foo.ca-client" is forbidden`},
	},
	{
		name:      "a shoot the cache has not seen yet is found by a live read",
		attrs:     attrs(admission.Delete, "foo.ca-client", nil, fullCA),
		live:      fooShoot,
		forbidden: []string{`Shoot "foo"`},
	},
	{
		name:  "CA of a missing shoot can be deleted",
		attrs: attrs(admission.Delete, "foo.ca-client", nil, fullCA),
	},
	{
		name:   "CA of a shoot being deleted can be deleted (finalizers clean up)",
		attrs:  attrs(admission.Delete, "foo.ca-client", nil, fullCA),
		cached: []runtime.Object{shoot("foo", true)},
	},
	{
		name:   "other secrets are not protected",
		attrs:  attrs(admission.Delete, "foo.ca-etcd", nil, secret("foo.ca-etcd", "ca.crt")),
		cached: fooShoot,
	},
	{
		name:   "names with a dot before the suffix do not name a shoot",
		attrs:  attrs(admission.Delete, "x.foo.ca-client", nil, secret("x.foo.ca-client", "ca.crt")),
		cached: fooShoot,
	},
	{
		name:      "removing ca.key is refused",
		attrs:     attrs(admission.Update, "foo.ca-client", secret("foo.ca-client", "ca.crt"), fullCA),
		cached:    fooShoot,
		forbidden: []string{`client CA of Shoot "foo"`, "cannot lose its ca.crt/ca.key keys (removed or emptied: ca.key)"},
	},
	{
		name:      "emptying ca.key is refused",
		attrs:     attrs(admission.Update, "foo.ca-client", emptiedCA, fullCA),
		cached:    fooShoot,
		forbidden: []string{"removed or emptied: ca.key"},
	},
	{
		name:      "removing both keys names both",
		attrs:     attrs(admission.Update, "foo.ca-client", secret("foo.ca-client", "other"), fullCA),
		cached:    fooShoot,
		forbidden: []string{"removed or emptied: ca.crt, ca.key"},
	},
	{
		name:   "rotating the CA (changing values, adding keys) is allowed",
		attrs:  attrs(admission.Update, "foo.ca-client", secret("foo.ca-client", "ca.crt", "ca.key", "ca-old.crt"), fullCA),
		cached: fooShoot,
	},
	{
		name:   "keys that were never there are not required",
		attrs:  attrs(admission.Update, "foo.ca-cluster", secret("foo.ca-cluster", "ca.crt"), secret("foo.ca-cluster", "ca.crt")),
		cached: fooShoot,
	},
	{
		name:  "removing keys is fine once the shoot is gone",
		attrs: attrs(admission.Update, "foo.ca-client", secret("foo.ca-client"), fullCA),
	},
}

func TestValidate(t *testing.T) {
	for _, tt := range validateCases {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlugin(t, tt.cached, tt.live)
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
			assert.NotContains(t, err.Error(), "value of", "never echo secret data")
		})
	}
}

func TestHandles(t *testing.T) {
	p := New()
	assert.True(t, p.Handles(admission.Update))
	assert.True(t, p.Handles(admission.Delete))
	assert.False(t, p.Handles(admission.Create))
}

func TestValidateInitialization(t *testing.T) {
	assert.ErrorContains(t, New().ValidateInitialization(), "missing shoot lister")
}
