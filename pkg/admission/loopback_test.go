package admission

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
)

// clientPlugin only takes the core client the initializers hand out.
type clientPlugin struct{ client versioned.Interface }

func (*clientPlugin) Handles(k8sadmission.Operation) bool      { return true }
func (*clientPlugin) ValidateInitialization() error            { return nil }
func (p *clientPlugin) SetCoreClientSet(c versioned.Interface) { p.client = c }

// The plugins' client of our own API speaks protobuf on the loopback connection.
func TestExtraInitializersLoopbackClientUsesProtobuf(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][2]string{} // method -> Content-Type, Accept
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method] = [2]string{r.Header.Get("Content-Type"), r.Header.Get("Accept")}
		mu.Unlock()
		http.Error(w, "recorded", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)

	c := genericapiserver.NewRecommendedConfig(serializer.NewCodecFactory(runtime.NewScheme()))
	c.LoopbackClientConfig = &rest.Config{Host: srv.URL}
	initializers, err := ExtraInitializers(c)
	require.NoError(t, err)
	p := &clientPlugin{}
	k8sadmission.PluginInitializers(initializers).Initialize(p)
	require.NotNil(t, p.client)

	secrets := p.client.CoreV1beta1().InternalSecrets("garden-dev")
	_, err = secrets.Get(context.Background(), "s", metav1.GetOptions{})
	require.Error(t, err)
	_, err = secrets.Create(context.Background(), &corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{})
	require.Error(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, runtime.ContentTypeProtobuf+","+runtime.ContentTypeJSON, seen[http.MethodGet][1], "GET asks for protobuf first")
	assert.Equal(t, runtime.ContentTypeProtobuf, seen[http.MethodPost][0], "POST sends protobuf")
}
