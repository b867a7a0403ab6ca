package internalsecretlimit

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func TestLoadConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		want    *int32
		wantErr string
	}{
		{name: "no entry means no limit"},
		{
			name:   "YAML",
			config: "apiVersion: internalsecretlimit.admission.gardener.cloud/v1alpha1\nkind: Configuration\nmaxInternalSecretsPerNamespace: 50\n",
			want:   ptr.To[int32](50),
		},
		{
			name:   "JSON, as embedded in an AdmissionConfiguration",
			config: `{"apiVersion":"internalsecretlimit.admission.gardener.cloud/v1alpha1","kind":"Configuration","maxInternalSecretsPerNamespace":0}`,
			want:   ptr.To[int32](0),
		},
		{
			name:   "unset field keeps the limit off",
			config: `{"apiVersion":"internalsecretlimit.admission.gardener.cloud/v1alpha1","kind":"Configuration"}`,
		},
		{
			name:    "negative",
			config:  `{"apiVersion":"internalsecretlimit.admission.gardener.cloud/v1alpha1","kind":"Configuration","maxInternalSecretsPerNamespace":-1}`,
			wantErr: "maxInternalSecretsPerNamespace: Invalid value: -1: must not be negative",
		},
		{
			name:    "misspelt field is an error, not a silent no-limit",
			config:  `{"apiVersion":"internalsecretlimit.admission.gardener.cloud/v1alpha1","kind":"Configuration","maxInternalSecrets":5}`,
			wantErr: `unknown field "maxInternalSecrets"`,
		},
		{
			name:    "unknown version",
			config:  `{"apiVersion":"internalsecretlimit.admission.gardener.cloud/v9","kind":"Configuration"}`,
			wantErr: "no kind \"Configuration\" is registered for version",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var config io.Reader // nil when the AdmissionConfiguration has no entry
			if tt.config != "" {
				config = strings.NewReader(tt.config)
			}
			c, err := LoadConfiguration(config)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.MaxInternalSecretsPerNamespace)
		})
	}
}

func existing(namespace string, n int) []runtime.Object {
	var objs []runtime.Object
	for i := range n {
		objs = append(objs, &metav1.PartialObjectMetadata{
			TypeMeta:   metav1.TypeMeta{APIVersion: "core.gardener.cloud/v1beta1", Kind: "InternalSecret"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i), Namespace: namespace},
		})
	}
	return objs
}

func createAttrs(namespace, subresource string) admission.Attributes {
	s := &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: namespace}}
	return admission.NewAttributesRecord(s, nil, core.Kind("InternalSecret").WithVersion("v1beta1"), namespace, "new",
		core.Resource("internalsecrets").WithVersion("v1beta1"), subresource, admission.Create, nil, false, &user.DefaultInfo{Name: "alice"})
}

func TestValidate(t *testing.T) {
	objs := append(existing("garden-full", 3), existing("garden-room", 2)...)
	tests := []struct {
		name      string
		max       *int32
		attrs     admission.Attributes
		forbidden []string
	}{
		{name: "below the limit", max: ptr.To[int32](3), attrs: createAttrs("garden-room", "")},
		{name: "other namespaces do not count", max: ptr.To[int32](3), attrs: createAttrs("garden-empty", "")},
		{
			name:      "at the limit",
			max:       ptr.To[int32](3),
			attrs:     createAttrs("garden-full", ""),
			forbidden: []string{`internalsecrets.core.gardener.cloud "new" is forbidden`, "exceeded the limit of 3 InternalSecrets per namespace", `namespace "garden-full" already has 3`},
		},
		{
			name:      "over the limit (lowered after the fact)",
			max:       ptr.To[int32](1),
			attrs:     createAttrs("garden-full", ""),
			forbidden: []string{"limit of 1", "already has 3"},
		},
		{name: "zero forbids any", max: ptr.To[int32](0), attrs: createAttrs("garden-empty", ""), forbidden: []string{"limit of 0", "already has 0"}},
		{name: "no limit", attrs: createAttrs("garden-full", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(tt.max)
			scheme := metadatafake.NewTestScheme()
			require.NoError(t, metav1.AddMetaToScheme(scheme))
			p.SetMetadataClient(metadatafake.NewSimpleMetadataClient(scheme, objs...))
			require.NoError(t, p.ValidateInitialization())
			assert.Equal(t, tt.max != nil, p.Handles(admission.Create), "handles creates only when a limit is set")
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

func TestOnlyCreatesAreCounted(t *testing.T) {
	p := New(ptr.To[int32](1))
	for _, op := range []admission.Operation{admission.Update, admission.Delete, admission.Connect} {
		assert.False(t, p.Handles(op), op)
	}
	assert.ErrorContains(t, p.ValidateInitialization(), "missing metadata client")
	assert.NoError(t, New(nil).ValidateInitialization(), "an unconfigured plugin needs nothing")
}
