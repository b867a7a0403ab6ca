package deletionconfirmation

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func writeAttrs(op admission.Operation, obj *core.Shoot, old runtime.Object, subresource, user_ string) admission.Attributes {
	return admission.NewAttributesRecord(obj, old, core.Kind("Shoot").WithVersion("v1beta1"), ns, obj.Name,
		core.Resource("shoots").WithVersion("v1beta1"), subresource, op, nil, false, &user.DefaultInfo{Name: user_})
}

func TestAdmitRecordsConfirmedBy(t *testing.T) {
	confirmedBy := func(who string) map[string]string {
		return map[string]string{Annotation: "true", ConfirmedByAnnotation: who}
	}
	tests := []struct {
		name  string
		op    admission.Operation
		obj   map[string]string
		old   map[string]string
		want  map[string]string
		usr   string
		subrs string
	}{
		{name: "create confirmed", op: admission.Create, obj: yes, usr: "alice", want: confirmedBy("alice")},
		{name: "create unconfirmed, forged confirmed-by dropped", op: admission.Create, obj: map[string]string{ConfirmedByAnnotation: "mallory"}, usr: "alice", want: map[string]string{}},
		{name: "create confirmed, forged confirmed-by replaced", op: admission.Create, obj: confirmedBy("mallory"), usr: "alice", want: confirmedBy("alice")},
		{name: "update confirms", op: admission.Update, obj: yes, old: nil, usr: "bob", want: confirmedBy("bob")},
		{name: "update keeps who confirmed", op: admission.Update, obj: confirmedBy("mallory"), old: confirmedBy("alice"), usr: "bob", want: confirmedBy("alice")},
		{name: "update keeps it when the client drops it", op: admission.Update, obj: yes, old: confirmedBy("alice"), usr: "bob", want: confirmedBy("alice")},
		{name: "confirmation predating the annotation", op: admission.Update, obj: confirmedBy("mallory"), old: yes, usr: "bob", want: yes},
		{name: "update withdraws the confirmation", op: admission.Update, obj: map[string]string{Annotation: "false", ConfirmedByAnnotation: "alice"}, old: confirmedBy("alice"), usr: "bob", want: map[string]string{Annotation: "false"}},
		{name: "status writes untouched", op: admission.Update, obj: yes, old: nil, usr: "bob", subrs: "status", want: yes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := shoot("a", copyMap(tt.obj))
			var old runtime.Object
			if tt.op == admission.Update {
				old = shoot("a", copyMap(tt.old))
			}
			require.NoError(t, New().Admit(context.Background(), writeAttrs(tt.op, obj, old, tt.subrs, tt.usr), nil))
			assert.Equal(t, tt.want, nonNil(obj.Annotations))
		})
	}
}

func TestAdmitIgnoresDeletesAndOtherKinds(t *testing.T) {
	p := New()
	require.NoError(t, p.Admit(context.Background(), deleteAttrs("a", shoot("a", nil), "shoots", ""), nil))
	other := admission.NewAttributesRecord(&core.InternalSecret{}, nil, core.Kind("InternalSecret").WithVersion("v1beta1"), ns, "x",
		core.Resource("internalsecrets").WithVersion("v1beta1"), "", admission.Create, nil, false, &user.DefaultInfo{Name: "alice"})
	require.NoError(t, p.Admit(context.Background(), other, nil))
	assert.Nil(t, other.GetObject().(*core.InternalSecret).Annotations)
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
