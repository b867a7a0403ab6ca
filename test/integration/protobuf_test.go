package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	corev1beta1client "github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/typed/core/v1beta1"
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

	assertKubeconfigsOverProtobuf(t, shoots, wire)

	requireWatchEvents(t, w, []watch.EventType{watch.Added, watch.Modified, watch.Modified, watch.Modified}, "pb")
	requireWire(t, wire, "WATCH", "/shoots", "", pbWatchType)
}

// assertKubeconfigsOverProtobuf issues admin and viewer kubeconfigs of the shoot "pb" and a
// refused request, all over protobuf.
func assertKubeconfigsOverProtobuf(t *testing.T, shoots corev1beta1client.ShootInterface, wire *wireLog) {
	t.Helper()
	ctx := context.Background()
	sent := time.Now()
	admin, err := shoots.CreateAdminKubeconfigRequest(ctx, "pb", &authv1alpha1.AdminKubeconfigRequest{
		Spec: authv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](900)}}, metav1.CreateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "POST", "/shoots/pb/adminkubeconfig", pbType, pbType)
	assert.Contains(t, string(admin.Status.Kubeconfig), "https://api.pb.example.com")
	assertExpiresIn(t, sent, 15*time.Minute, admin.Status.ExpirationTimestamp.Time)
	sent = time.Now()
	viewer, err := shoots.CreateViewerKubeconfigRequest(ctx, "pb", &authv1alpha1.ViewerKubeconfigRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	requireWire(t, wire, "POST", "/shoots/pb/viewerkubeconfig", pbType, pbType)
	assertExpiresIn(t, sent, time.Hour, viewer.Status.ExpirationTimestamp.Time) // defaulted to 1h
	assert.Equal(t, []string{"gardener.cloud:system:viewers"}, clientCert(t, viewer.Status.Kubeconfig).Subject.Organization)

	// Validation errors come back as a Status, decoded from protobuf.
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "pb", &authv1alpha1.AdminKubeconfigRequest{
		Spec: authv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](60)}}, metav1.CreateOptions{})
	requireStatus(t, err, 422, "may not specify a duration less than 10 minutes")
}

// decryptedValues reads every value under prefix from etcd and decrypts it with the
// configuration file (values of resources the file does not name are returned as stored).
func decryptedValues(t testing.TB, e *encEnv, prefix string, gr schema.GroupResource) map[string][]byte {
	t.Helper()
	cfg, err := encryptionconfig.LoadEncryptionConfig(context.Background(), e.cfg, false, "test")
	require.NoError(t, err)
	out := map[string][]byte{}
	for k, v := range e.etcd.Raw(t, prefix) {
		if tr := cfg.Transformers[gr]; tr != nil {
			require.Truef(t, strings.HasPrefix(string(v), "k8s:enc:"), "%s: stored unencrypted", k)
			v, _, err = tr.TransformFromStorage(context.Background(), v, value.DefaultContext(k))
			require.NoError(t, err, k)
		}
		out[k] = v
	}
	return out
}

// requireFormat checks that every value starts with the JSON brace or the protobuf magic.
func requireFormat(t testing.TB, values map[string][]byte, mediaType string) {
	t.Helper()
	require.NotEmpty(t, values)
	want := map[string]string{runtime.ContentTypeJSON: "{", pbType: "k8s\x00"}[mediaType]
	for k, v := range values {
		require.Truef(t, strings.HasPrefix(string(v), want), "%s: want %s, got %q", k, mediaType, v[:min(len(v), 16)])
	}
}

// An etcd written by a release that stored JSON (as --storage-media-type=application/json
// does): the server serves every object at once and converts them to protobuf in the
// background, with progress in the encryption status and metrics, while clients keep writing.
// No write is lost, and encrypted objects stay encrypted.
func TestProtobufUpgradeFromJSON(t *testing.T) {
	e := newEncEnv(t)
	hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc("key1"))))
	old := e.start("", "--storage-media-type=application/json")
	const hot, cold, nShoots = 10, 40, 10
	createSecrets(t, old, "u", hot+cold, "MARKER-upgrade")
	createShoots(t, old, "u", nShoots, "MARKER-upgrade")
	waitMigrated(t, old, hash, 30*time.Second)
	// Metrics are process-wide: earlier tests' servers counted too.
	shootsMigratedBefore := metricValue(t, old, "garden_apiserver_encryption_migration_objects_migrated_total", `resource="`+shootsRes+`"`)
	old.Stop()
	secretsGR, shootsGR := corev1beta1.Resource("internalsecrets"), corev1beta1.Resource("shoots")
	requireFormat(t, decryptedValues(t, e, secretsPrefix, secretsGR), runtime.ContentTypeJSON)
	requireFormat(t, decryptedValues(t, e, shootsPrefix, shootsGR), runtime.ContentTypeJSON)

	s := e.start("", "--encryption-migration-rate=20", "--encryption-migration-batch-size=10")
	pb, _ := wireClient(t, s, "")
	client := pb.CoreV1beta1().InternalSecrets(ns)
	list, err := client.List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, hot+cold, "JSON objects are served at once")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan map[string]string)
	go func() { done <- keepUpdating(ctx, client, "u", hot) }()

	var st encryption.Status
	require.Eventually(t, func() bool {
		st = encStatus(t, s)
		r := resourceStatus(st, secretsRes)
		return r.Migrated >= 3 && r.StoredAs[runtime.ContentTypeJSON] > 0
	}, 30*time.Second, 20*time.Millisecond, "the conversion is under way and visible")
	require.Greater(t, resourceStatus(st, secretsRes).Remaining, 0)
	require.False(t, st.AllMigrated)

	st = waitMigrated(t, s, hash, 60*time.Second)
	stop()
	last := <-done
	require.Len(t, last, hot, "every hot object was updated")
	secrets, shoots := resourceStatus(st, secretsRes), resourceStatus(st, shootsRes)
	assert.Equal(t, map[string]int{pbType: hot + cold}, secrets.StoredAs)
	assert.Equal(t, map[string]int{pbType: nShoots}, shoots.StoredAs)
	assert.GreaterOrEqual(t, secrets.Migrated, int64(cold), "the controller converted the cold objects")
	assert.EqualValues(t, nShoots, shoots.Migrated)
	assert.EqualValues(t, nShoots, metricValue(t, s, "garden_apiserver_encryption_migration_objects_migrated_total", `resource="`+shootsRes+`"`)-shootsMigratedBefore)

	requireFormat(t, decryptedValues(t, e, secretsPrefix, secretsGR), pbType)
	requireFormat(t, decryptedValues(t, e, shootsPrefix, shootsGR), pbType)
	list, err = client.List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, hot+cold)
	for _, o := range list.Items {
		assert.Equal(t, last[o.Name], string(o.Data["v"]), "%s has the writer's last value", o.Name)
		assert.Equal(t, "MARKER-upgrade", string(o.Data["marker"]))
	}
}

// keepUpdating rewrites data key "v" of objects prefix-000 .. prefix-(n-1) until ctx ends and
// returns the last value each update that succeeded wrote.
func keepUpdating(ctx context.Context, c corev1beta1client.InternalSecretInterface, prefix string, n int) map[string]string {
	last := map[string]string{}
	for round := 0; ctx.Err() == nil; round++ {
		for i := 0; i < n && ctx.Err() == nil; i++ {
			name, val := fmt.Sprintf("%s-%03d", prefix, i), fmt.Sprintf("r%d", round)
			obj, err := c.Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				continue
			}
			obj.Data["v"] = []byte(val)
			if _, err := c.Update(context.Background(), obj, metav1.UpdateOptions{}); err == nil {
				last[name] = val
			}
		}
	}
	return last
}
