package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/shootvalidator"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// discoveryServer serves legacy discovery for core/v1 configmaps and example.com/v1 widgets.
func discoveryServer(t *testing.T) *httptest.Server {
	docs := map[string]any{
		"/api":                 metav1.APIVersions{Versions: []string{"v1"}},
		"/apis":                metav1.APIGroupList{Groups: []metav1.APIGroup{{Name: "example.com", Versions: []metav1.GroupVersionForDiscovery{{GroupVersion: "example.com/v1", Version: "v1"}}}}},
		"/api/v1":              metav1.APIResourceList{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "configmaps", Namespaced: true, Kind: "ConfigMap"}}},
		"/apis/example.com/v1": metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{{Name: "widgets", Namespaced: true, Kind: "Widget"}}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func shootCreate(resources ...string) k8sadmission.Attributes {
	s := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "garden-dev"}}
	s.Spec.Kubernetes.KubeAPIServer = &core.KubeAPIServerConfig{EncryptionConfig: &core.EncryptionConfig{Resources: resources}}
	return k8sadmission.NewAttributesRecord(s, nil, core.Kind("Shoot").WithVersion("v1beta1"), s.Namespace, s.Name,
		core.Resource("shoots").WithVersion("v1beta1"), "", k8sadmission.Create, nil, false, &user.DefaultInfo{Name: "alice"})
}

// initializedShootValidator runs ExtraInitializers on a config and initializes a ShootValidator with it.
func initializedShootValidator(t *testing.T, clusterConfig *rest.Config) *shootvalidator.Plugin {
	t.Helper()
	c := genericapiserver.NewRecommendedConfig(serializer.NewCodecFactory(runtime.NewScheme()))
	c.LoopbackClientConfig = &rest.Config{Host: "https://127.0.0.1:1"} // never dialled by this plugin
	c.ClientConfig = clusterConfig
	initializers, err := ExtraInitializers(c)
	require.NoError(t, err)
	p := shootvalidator.New()
	k8sadmission.PluginInitializers(initializers).Initialize(p)
	return p
}

func TestExtraInitializersUseTheClusterDiscoveryWhenDelegated(t *testing.T) {
	p := initializedShootValidator(t, &rest.Config{Host: discoveryServer(t).URL})
	ctx := context.Background()
	assert.NoError(t, p.Validate(ctx, shootCreate("configmaps", "widgets.example.com"), nil), "custom resources of the cluster are accepted")
	err := p.Validate(ctx, shootCreate("deployments.apps"), nil)
	assert.ErrorContains(t, err, "the cluster does not serve this resource", "the cluster decides, not the standalone allowlist")
}

func TestExtraInitializersFallBackToTheAllowlistStandalone(t *testing.T) {
	p := initializedShootValidator(t, nil)
	ctx := context.Background()
	assert.NoError(t, p.Validate(ctx, shootCreate("deployments.apps"), nil))
	assert.ErrorContains(t, p.Validate(ctx, shootCreate("widgets.example.com"), nil), "standalone mode")
}

func TestExtraInitializersRegisterTheInformersHook(t *testing.T) {
	c := genericapiserver.NewRecommendedConfig(serializer.NewCodecFactory(runtime.NewScheme()))
	c.LoopbackClientConfig = &rest.Config{Host: "https://127.0.0.1:1"}
	_, err := ExtraInitializers(c)
	require.NoError(t, err)
	_, err = ExtraInitializers(c)
	assert.ErrorContains(t, err, InformersHook, "the hook is registered once, under its name")
}
