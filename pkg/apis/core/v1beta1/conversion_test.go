package v1beta1_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/install"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
)

func TestStringDataMergedIntoData(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	in := &v1beta1.InternalSecret{
		Data:       map[string][]byte{"a": []byte("data"), "b": []byte("kept")},
		StringData: map[string]string{"a": "string", "c": "new"},
	}
	out := &core.InternalSecret{}
	require.NoError(t, scheme.Convert(in, out, nil))
	assert.Equal(t, map[string][]byte{"a": []byte("string"), "b": []byte("kept"), "c": []byte("new")}, out.Data)
	assert.Equal(t, []byte("data"), in.Data["a"], "the input is not modified")

	back := &v1beta1.InternalSecret{}
	require.NoError(t, scheme.Convert(out, back, nil))
	assert.Nil(t, back.StringData, "stringData is never returned")
}

func TestFieldSelectorLabels(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	gvk := v1beta1.SchemeGroupVersion.WithKind("InternalSecret")
	for _, l := range []string{"metadata.name", "metadata.namespace", "type"} {
		_, _, err := scheme.ConvertFieldLabel(gvk, l, "x")
		assert.NoError(t, err, l)
	}
	_, _, err := scheme.ConvertFieldLabel(gvk, "data.a", "x")
	assert.ErrorContains(t, err, "field label not supported")
}

func TestShootProviderDefault(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	s := &v1beta1.Shoot{Spec: v1beta1.ShootSpec{Kubernetes: v1beta1.Kubernetes{KubeAPIServer: &v1beta1.KubeAPIServerConfig{
		EncryptionConfig: &v1beta1.EncryptionConfig{Resources: []string{"configmaps"}}}}}}
	scheme.Default(s)
	require.NotNil(t, s.Spec.Kubernetes.KubeAPIServer.EncryptionConfig.Provider.Type)
	assert.Equal(t, v1beta1.EncryptionProviderTypeAESCBC, *s.Spec.Kubernetes.KubeAPIServer.EncryptionConfig.Provider.Type)
}
