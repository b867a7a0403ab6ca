package install

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
)

// TestRoundTripTypes fuzzes the request kinds through internal -> v1alpha1 -> JSON/YAML and back.
func TestRoundTripTypes(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, func(runtimeserializer.CodecFactory) []interface{} { return nil })
}

// TestRoundTripTypesProtobuf does the same through protobuf.
func TestRoundTripTypesProtobuf(t *testing.T) {
	roundtrip.RoundTripProtobufTestForAPIGroup(t, Install, func(runtimeserializer.CodecFactory) []interface{} { return nil })
}

func newScheme(t *testing.T) (*runtime.Scheme, runtimeserializer.CodecFactory) {
	t.Helper()
	scheme := runtime.NewScheme()
	Install(scheme)
	return scheme, runtimeserializer.NewCodecFactory(scheme)
}

// TestRoundTripWireKinds fuzzes AdminKubeconfigRequest and ViewerKubeconfigRequest through
// JSON and protobuf: the internal type has another name, so the test above cannot reach them.
func TestRoundTripWireKinds(t *testing.T) {
	scheme, codecs := newScheme(t)
	f := fuzzer.FuzzerFor(metafuzzer.Funcs, rand.NewSource(rand.Int63()), codecs)
	for _, kind := range []string{"AdminKubeconfigRequest", "ViewerKubeconfigRequest"} {
		roundtrip.RoundTripSpecificKind(t, v1alpha1.SchemeGroupVersion.WithKind(kind), scheme, codecs, f, nil)
	}
}

// TestConversionRoundTrip: each wire kind converts to the one internal KubeconfigRequest and
// back unchanged (expirationSeconds is always set: decoding defaults it).
func TestConversionRoundTrip(t *testing.T) {
	scheme, codecs := newScheme(t)
	f := fuzzer.FuzzerFor(metafuzzer.Funcs, rand.NewSource(rand.Int63()), codecs)
	for range 50 {
		for _, in := range []runtime.Object{&v1alpha1.AdminKubeconfigRequest{}, &v1alpha1.ViewerKubeconfigRequest{}} {
			f.Fill(in)
			setExpiration(in, f)
			internal := &authentication.KubeconfigRequest{}
			require.NoError(t, scheme.Convert(in, internal, nil))
			out, err := scheme.New(kindOf(t, scheme, in))
			require.NoError(t, err)
			require.NoError(t, scheme.Convert(internal, out, nil))
			out.GetObjectKind().SetGroupVersionKind(in.GetObjectKind().GroupVersionKind())
			assert.True(t, apiequality.Semantic.DeepEqual(in, out), "%T changed: %v -> %v", in, in, out)
		}
	}
}

func setExpiration(obj runtime.Object, f interface{ Fill(any) }) {
	var seconds int64
	f.Fill(&seconds)
	switch o := obj.(type) {
	case *v1alpha1.AdminKubeconfigRequest:
		o.Spec.ExpirationSeconds = &seconds
	case *v1alpha1.ViewerKubeconfigRequest:
		o.Spec.ExpirationSeconds = &seconds
	}
}

func kindOf(t *testing.T, scheme *runtime.Scheme, obj runtime.Object) schema.GroupVersionKind {
	t.Helper()
	gvks, _, err := scheme.ObjectKinds(obj)
	require.NoError(t, err)
	return gvks[0]
}
