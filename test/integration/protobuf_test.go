package integration

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// wireLog records the media types of every request and response of a client.
type wireLog struct {
	mu       sync.Mutex
	requests map[string][]string // "METHOD path" -> request Content-Type, response Content-Type
}

func (l *wireLog) RoundTrip(rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	resp, err := rt.RoundTrip(req)
	if err == nil {
		l.mu.Lock()
		key := req.Method + " " + req.URL.Path
		if req.URL.Query().Get("watch") == "true" {
			key = "WATCH " + req.URL.Path
		}
		l.requests[key] = []string{req.Header.Get("Content-Type"), resp.Header.Get("Content-Type")}
		l.mu.Unlock()
	}
	return resp, err
}

// types returns the request and response media types of the last request to path.
func (l *wireLog) types(method, path string) (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.requests[method+" "+path]
	if v == nil {
		return "", ""
	}
	return v[0], v[1]
}

// wireClient is the generated clientset (protobuf preferred) or, with contentType, a client
// speaking only that media type; log records what went over the wire.
func wireClient(t testing.TB, s *framework.Server, contentType string) (versioned.Interface, *wireLog) {
	t.Helper()
	cfg := rest.CopyConfig(s.Admin)
	cfg.QPS, cfg.Burst = 1000, 2000
	if contentType != "" {
		cfg.ContentType, cfg.AcceptContentTypes = contentType, contentType
	}
	log := &wireLog{requests: map[string][]string{}}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) { return log.RoundTrip(rt, req) })
	})
	c, err := versioned.NewForConfig(cfg)
	require.NoError(t, err)
	return c, log
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

const (
	pbType      = runtime.ContentTypeProtobuf
	pbWatchType = runtime.ContentTypeProtobuf + ";stream=watch"
	basePath    = "/apis/core.gardener.cloud/v1beta1/namespaces/" + ns
)

// requireWire asserts the media types of the last request to path (empty: not checked).
func requireWire(t *testing.T, log *wireLog, method, path, reqType, respType string) {
	t.Helper()
	gotReq, gotResp := log.types(method, basePath+path)
	if reqType != "" {
		assert.Equal(t, reqType, gotReq, "%s %s: request Content-Type", method, path)
	}
	assert.Equal(t, respType, gotResp, "%s %s: response Content-Type", method, path)
}

// Every verb of InternalSecrets through the generated (protobuf-preferring) client goes over
// the wire as protobuf, and a JSON client reads exactly the same objects.
func TestProtobufInternalSecrets(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	pb, wire := wireClient(t, s, "")
	js, jsWire := wireClient(t, s, runtime.ContentTypeJSON)
	secrets, jsSecrets := pb.CoreV1beta1().InternalSecrets(ns), js.CoreV1beta1().InternalSecrets(ns)

	w, err := secrets.Watch(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	defer w.Stop()

	const marker = "MARKER-protobuf-9c1e"
	created, err := secrets.Create(ctx, &corev1beta1.InternalSecret{
		ObjectMeta: metav1.ObjectMeta{Name: "pb", Namespace: ns, Labels: map[string]string{"a": "b"}},
		Data:       map[string][]byte{"token": []byte(marker), "bin": {0, 1, 2, 255}},
		StringData: map[string]string{"user": "admin"},
		Type:       "Opaque",
		Immutable:  ptr.To(false),
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "POST", "/internalsecrets", pbType, pbType)
	assert.Equal(t, map[string][]byte{"token": []byte(marker), "bin": {0, 1, 2, 255}, "user": []byte("admin")}, created.Data)
	assert.Nil(t, created.StringData, "stringData is write-only")

	created.Data["token"] = []byte(marker + "-2")
	updated, err := secrets.Update(ctx, created, metav1.UpdateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "PUT", "/internalsecrets/pb", pbType, pbType)
	assert.NotEqual(t, created.ResourceVersion, updated.ResourceVersion)

	patched, err := secrets.Patch(ctx, "pb", types.MergePatchType, []byte(`{"metadata":{"labels":{"c":"d"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "PATCH", "/internalsecrets/pb", "", pbType)

	got, err := secrets.Get(ctx, "pb", metav1.GetOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "GET", "/internalsecrets/pb", "", pbType)
	assert.Equal(t, patched, got)
	fromJSON, err := jsSecrets.Get(ctx, "pb", metav1.GetOptions{})
	require.NoError(t, err)
	requireWire(t, jsWire, "GET", "/internalsecrets/pb", "", runtime.ContentTypeJSON)
	assert.Equal(t, got, fromJSON, "the same object through protobuf and JSON")

	list, err := secrets.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "GET", "/internalsecrets", "", pbType)
	jsList, err := jsSecrets.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	assert.Equal(t, jsList.Items, list.Items)

	requireWatchEvents(t, w, []watch.EventType{watch.Added, watch.Modified, watch.Modified}, "pb")
	requireWire(t, wire, "WATCH", "/internalsecrets", "", pbWatchType)

	require.NoError(t, secrets.Delete(ctx, "pb", metav1.DeleteOptions{}))
	requireWire(t, wire, "DELETE", "/internalsecrets/pb", pbType, pbType)
	requireWatchEvents(t, w, []watch.EventType{watch.Deleted}, "pb")
}

// requireWatchEvents reads the next events of w and checks their types and object names.
func requireWatchEvents(t *testing.T, w watch.Interface, want []watch.EventType, name string) {
	t.Helper()
	for _, typ := range want {
		select {
		case ev := <-w.ResultChan():
			require.Equal(t, typ, ev.Type, "watch event: %+v", ev.Type)
			obj, ok := ev.Object.(metav1.Object)
			require.True(t, ok, "watch object %T", ev.Object)
			require.Equal(t, name, obj.GetName())
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s event within 30s", typ)
		}
	}
}

// Shoots, shoots/status and both kubeconfig subresources over protobuf.
func TestProtobufShoots(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	pb, wire := wireClient(t, s, "")
	js, _ := wireClient(t, s, runtime.ContentTypeJSON)
	shoots, jsShoots := pb.CoreV1beta1().Shoots(ns), js.CoreV1beta1().Shoots(ns)

	w, err := shoots.Watch(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	defer w.Stop()

	createShoot(t, pb, "pb", corev1beta1.ShootAdvertisedAddress{Name: "external", URL: "https://api.pb.example.com"})
	requireWire(t, wire, "POST", "/shoots", pbType, pbType)
	requireWire(t, wire, "PUT", "/shoots/pb/status", pbType, pbType)

	shoot, err := shoots.Get(ctx, "pb", metav1.GetOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "GET", "/shoots/pb", "", pbType)
	shoot.Spec.Kubernetes.Version = "1.31.3"
	shoot, err = shoots.Update(ctx, shoot, metav1.UpdateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "PUT", "/shoots/pb", pbType, pbType)
	assert.EqualValues(t, 2, shoot.Generation)

	now := metav1.NewTime(time.Now().Truncate(time.Second))
	shoot.Status.ObservedGeneration = shoot.Generation
	shoot.Status.LastOperation = &corev1beta1.LastOperation{Type: "Reconcile", State: "Succeeded", Progress: 100,
		Description: "done", LastUpdateTime: now}
	shoot.Status.Credentials = &corev1beta1.ShootCredentials{
		Rotation: &corev1beta1.ShootCredentialsRotation{ETCDEncryptionKey: &corev1beta1.ETCDEncryptionKeyRotation{
			Phase: corev1beta1.RotationCompleted, LastInitiationTime: &now, LastCompletionTime: &now}},
		EncryptionAtRest: &corev1beta1.EncryptionAtRest{Resources: []string{"configmaps"},
			Provider: corev1beta1.EncryptionProviderStatus{Type: corev1beta1.EncryptionProviderTypeAESCBC}},
	}
	shoot, err = shoots.UpdateStatus(ctx, shoot, metav1.UpdateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "PUT", "/shoots/pb/status", pbType, pbType)

	fromJSON, err := jsShoots.Get(ctx, "pb", metav1.GetOptions{})
	require.NoError(t, err)
	got, err := shoots.Get(ctx, "pb", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, shoot, got)
	assert.Equal(t, got, fromJSON, "the same shoot through protobuf and JSON")
	list, err := shoots.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "GET", "/shoots", "", pbType)
	require.Len(t, list.Items, 1)
	assert.Equal(t, *got, list.Items[0])

	admin, err := shoots.CreateAdminKubeconfigRequest(ctx, "pb", &authv1alpha1.AdminKubeconfigRequest{
		Spec: authv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](900)}}, metav1.CreateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "POST", "/shoots/pb/adminkubeconfig", pbType, pbType)
	assert.Contains(t, string(admin.Status.Kubeconfig), "https://api.pb.example.com")
	assert.WithinDuration(t, time.Now().Add(15*time.Minute), admin.Status.ExpirationTimestamp.Time, time.Minute)
	viewer, err := shoots.CreateViewerKubeconfigRequest(ctx, "pb", &authv1alpha1.ViewerKubeconfigRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "POST", "/shoots/pb/viewerkubeconfig", pbType, pbType)
	assert.WithinDuration(t, time.Now().Add(time.Hour), viewer.Status.ExpirationTimestamp.Time, time.Minute, "defaulted to 1h")
	assert.Equal(t, []string{"gardener.cloud:system:viewers"}, clientCert(t, viewer.Status.Kubeconfig).Subject.Organization)

	// Validation errors come back as a Status, decoded from protobuf.
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "pb", &authv1alpha1.AdminKubeconfigRequest{
		Spec: authv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](60)}}, metav1.CreateOptions{})
	requireStatus(t, err, 422, "may not specify a duration less than 10 minutes")

	requireWatchEvents(t, w, []watch.EventType{watch.Added, watch.Modified, watch.Modified, watch.Modified}, "pb")
	requireWire(t, wire, "WATCH", "/shoots", "", pbWatchType)
}

// requireDecodesTo checks that raw (a stored value after decryption) is protobuf.
func requireProtobuf(t testing.TB, key string, plain []byte) {
	t.Helper()
	require.Truef(t, strings.HasPrefix(string(plain), "k8s\x00"), "%s: want protobuf, got %q", key, plain[:min(len(plain), 16)])
}
