package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	applycore "github.com/garden-apiserver/garden-apiserver/pkg/generated/applyconfiguration/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	typedcorev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/typed/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

const ns = "garden-dev"

func newSecret(name string, data map[string]string) *corev1beta1.InternalSecret {
	s := &corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestInternalSecretLifecycle(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	c := s.Client.CoreV1beta1().InternalSecrets(ns)

	// stringData is merged into data (winning on conflicts) and never returned.
	in := newSecret("ca", map[string]string{"a": "from-data", "b": "kept"})
	in.StringData = map[string]string{"a": "from-stringData", "c": "string"}
	created, err := c.Create(ctx, in, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.SecretTypeOpaque, created.Type, "type defaults to Opaque")
	assert.Nil(t, created.StringData)
	assert.Equal(t, map[string][]byte{"a": []byte("from-stringData"), "b": []byte("kept"), "c": []byte("string")}, created.Data)

	got, err := c.Get(ctx, "ca", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Nil(t, got.StringData)
	assert.Equal(t, created.Data, got.Data)

	// Update with empty type keeps the stored type.
	got.Type = ""
	got.Data["d"] = []byte("new")
	updated, err := c.Update(ctx, got, metav1.UpdateOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.SecretTypeOpaque, updated.Type)
	assert.Equal(t, []byte("new"), updated.Data["d"])

	// Stale resourceVersion: 409 Conflict.
	got.Data["e"] = []byte("x")
	_, err = c.Update(ctx, got, metav1.UpdateOptions{})
	assert.True(t, apierrors.IsConflict(err), "want 409, got %v", err)

	assertPatchKinds(t, c, "ca")

	// Server-side apply through the generated apply configurations.
	applied, err := c.Apply(ctx, applycore.InternalSecret("applied", ns).
		WithType(corev1.SecretTypeTLS).
		WithData(map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}),
		metav1.ApplyOptions{FieldManager: "test", Force: true})
	require.NoError(t, err)
	assert.Equal(t, corev1.SecretTypeTLS, applied.Type)
	require.NotEmpty(t, applied.ManagedFields)
	assert.Equal(t, "test", applied.ManagedFields[0].Manager)

	// Type cannot change.
	applied.Type = corev1.SecretTypeOpaque
	_, err = c.Update(ctx, applied, metav1.UpdateOptions{})
	requireInvalid(t, err, "type")

	list, err := c.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, list.Items, 2)

	require.NoError(t, c.Delete(ctx, "ca", metav1.DeleteOptions{}))
	_, err = c.Get(ctx, "ca", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "want 404 after delete, got %v", err)
}

// assertPatchKinds patches name with a merge, a JSON and a strategic merge patch in turn.
func assertPatchKinds(t *testing.T, c typedcorev1beta1.InternalSecretInterface, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.Patch(ctx, name, types.MergePatchType, []byte(`{"data":{"m":"bWVyZ2U="}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	_, err = c.Patch(ctx, name, types.JSONPatchType, []byte(`[{"op":"add","path":"/data/j","value":"anNvbg=="}]`), metav1.PatchOptions{})
	require.NoError(t, err)
	p, err := c.Patch(ctx, name, types.StrategicMergePatchType, []byte(`{"metadata":{"labels":{"k":"v"}},"data":{"s":"c3Ry"}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	assert.Equal(t, "merge", string(p.Data["m"]))
	assert.Equal(t, "json", string(p.Data["j"]))
	assert.Equal(t, "str", string(p.Data["s"]))
	assert.Equal(t, "v", p.Labels["k"])
}

func requireInvalid(t *testing.T, err error, fields ...string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, apierrors.IsInvalid(err), "want 422 Invalid, got %v", err)
	status := err.(apierrors.APIStatus).Status()
	var got []string
	for _, c := range status.Details.Causes {
		got = append(got, c.Field)
	}
	for _, f := range fields {
		assert.Contains(t, got, f, "causes: %v", status.Details.Causes)
	}
}

func TestInternalSecretValidation(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	c := s.Client.CoreV1beta1().InternalSecrets(ns)

	_, err := c.Create(ctx, newSecret("bad-key", map[string]string{"no/slash": "x"}), metav1.CreateOptions{})
	requireInvalid(t, err, "data[no/slash]")

	_, err = c.Create(ctx, newSecret("Bad_Name", nil), metav1.CreateOptions{})
	requireInvalid(t, err, "metadata.name")

	big := newSecret("big", nil)
	big.Data["a"] = make([]byte, 600*1024)
	big.Data["b"] = make([]byte, 600*1024)
	_, err = c.Create(ctx, big, metav1.CreateOptions{})
	requireInvalid(t, err, "data")

	tls := newSecret("tls", map[string]string{"tls.crt": "x"})
	tls.Type = corev1.SecretTypeTLS
	_, err = c.Create(ctx, tls, metav1.CreateOptions{})
	requireInvalid(t, err, "data[tls.key]")

	basic := newSecret("basic", nil)
	basic.Type = corev1.SecretTypeBasicAuth
	_, err = c.Create(ctx, basic, metav1.CreateOptions{})
	requireInvalid(t, err, "data[username]")

	// Immutable: data and immutable cannot change, metadata can.
	im := newSecret("immutable", map[string]string{"a": "1"})
	im.Immutable = ptr.To(true)
	im, err = c.Create(ctx, im, metav1.CreateOptions{})
	require.NoError(t, err)
	im.Data["a"] = []byte("2")
	im.Immutable = ptr.To(false)
	_, err = c.Update(ctx, im, metav1.UpdateOptions{})
	requireInvalid(t, err, "data", "immutable")
	_, err = c.Patch(ctx, "immutable", types.MergePatchType, []byte(`{"metadata":{"labels":{"ok":"yes"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	// Nothing invalid was written.
	list, err := c.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	assert.Equal(t, "1", string(list.Items[0].Data["a"]))
}

func TestInternalSecretFieldSelectorsAndWatch(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	c := s.Client.CoreV1beta1().InternalSecrets(ns)

	w, err := c.Watch(ctx, metav1.ListOptions{FieldSelector: "type=kubernetes.io/tls"})
	require.NoError(t, err)
	defer w.Stop()

	_, err = c.Create(ctx, newSecret("opaque", map[string]string{"a": "b"}), metav1.CreateOptions{})
	require.NoError(t, err)
	tls := newSecret("tls", map[string]string{"tls.crt": "c", "tls.key": "k"})
	tls.Type = corev1.SecretTypeTLS
	_, err = c.Create(ctx, tls, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = s.Client.CoreV1beta1().InternalSecrets("other").Create(ctx,
		&corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "opaque", Namespace: "other"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	select {
	case ev := <-w.ResultChan():
		require.Equal(t, watch.Added, ev.Type)
		assert.Equal(t, "tls", ev.Object.(*corev1beta1.InternalSecret).Name, "the watch only sees tls secrets")
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}

	for sel, want := range map[string][]string{
		"type=kubernetes.io/tls":   {"tls"},
		"type=Opaque":              {"opaque"},
		"metadata.name=opaque":     {"opaque"},
		"metadata.namespace=" + ns: {"opaque", "tls"},
	} {
		list, err := c.List(ctx, metav1.ListOptions{FieldSelector: sel})
		require.NoError(t, err, sel)
		var names []string
		for _, i := range list.Items {
			names = append(names, i.Name)
		}
		assert.ElementsMatch(t, want, names, sel)
	}
	all, err := s.Client.CoreV1beta1().InternalSecrets("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=opaque"})
	require.NoError(t, err)
	assert.Len(t, all.Items, 2, "across namespaces")

	_, err = c.List(ctx, metav1.ListOptions{FieldSelector: "data.a=b"})
	require.True(t, apierrors.IsBadRequest(err), "unsupported field selector is 400, got %v", err)
	assert.Contains(t, err.Error(), "field label not supported")
}

func TestBadRequests(t *testing.T) {
	// JSON storage: base64 makes the largest valid object exceed etcd's request limit below.
	s := framework.Start(t, "", "--storage-media-type=application/json")
	rc := restClient(t, s.Admin)
	path := "/apis/core.gardener.cloud/v1beta1/namespaces/" + ns + "/internalsecrets"

	assertMalformedBodiesAre400(t, rc, path)

	// Unknown field under Warn: created, with a warning, the field dropped.
	res := rc.Post().AbsPath(path).SetHeader("Content-Type", "application/json").Param("fieldValidation", "Warn").
		Body([]byte(`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":"warned"},"bogus":1}`)).Do(context.Background())
	require.NoError(t, res.Error())
	var warned map[string]interface{}
	raw, _ := res.Raw()
	require.NoError(t, json.Unmarshal(raw, &warned))
	assert.NotContains(t, warned, "bogus")
	assert.NotEmpty(t, res.Warnings())

	// Oversized request body: 413 and the server keeps serving.
	huge := `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":"huge"},"data":{"a":"` +
		strings.Repeat("A", 4*1024*1024) + `"}}`
	var code int
	rc.Post().AbsPath(path).SetHeader("Content-Type", "application/json").Body([]byte(huge)).Do(context.Background()).StatusCode(&code)
	assert.Contains(t, []int{http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity}, code)

	// Within every validation limit (1 MiB of data, 256 KiB of annotations) but over etcd's
	// 1.5 MiB request limit once stored as JSON: 413 on create and update, not 500.
	big := newSecret("too-big-for-etcd", map[string]string{"a": strings.Repeat("x", 1000*1000)})
	big.Annotations = map[string]string{"note": strings.Repeat("y", 250*1000)}
	_, err := s.Client.CoreV1beta1().InternalSecrets(ns).Create(context.Background(), big, metav1.CreateOptions{})
	assert.True(t, apierrors.IsRequestEntityTooLargeError(err), "want 413, got %v", err)
	grown, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(context.Background(), "warned", metav1.GetOptions{})
	require.NoError(t, err)
	grown.Data, grown.Annotations = big.Data, big.Annotations
	_, err = s.Client.CoreV1beta1().InternalSecrets(ns).Update(context.Background(), grown, metav1.UpdateOptions{})
	assert.True(t, apierrors.IsRequestEntityTooLargeError(err), "want 413, got %v", err)

	list, err := s.Client.CoreV1beta1().InternalSecrets(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1, "only the Warn create was written")
	assert.Empty(t, list.Items[0].Annotations, "the rejected update changed nothing")
}

// assertMalformedBodiesAre400 posts bodies the server cannot decode to path.
func assertMalformedBodiesAre400(t *testing.T, rc rest.Interface, path string) {
	cases := []struct {
		name, body, contentType, query string
		code                           int
		msg                            string
	}{
		{"malformed JSON", `{"apiVersion":`, "application/json", "", 400, ""},
		{"malformed YAML", "apiVersion: [", "application/yaml", "", 400, ""},
		{"wrong kind", `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"Shoot","metadata":{"name":"x"}}`, "application/json", "", 400, ""},
		{"unknown field strict", `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":"x"},"bogus":1}`,
			"application/json", "?fieldValidation=Strict", 400, `unknown field "bogus"`},
		{"bad base64", `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":"x"},"data":{"a":"%%%"}}`,
			"application/json", "", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := rc.Post().AbsPath(path).SetHeader("Content-Type", tc.contentType).Body([]byte(tc.body)).
				Param("fieldValidation", strings.TrimPrefix(strings.TrimPrefix(tc.query, "?fieldValidation="), "?")).Do(context.Background())
			var code int
			res.StatusCode(&code)
			assert.Equal(t, tc.code, code, "error: %v", res.Error())
			if tc.msg != "" {
				assert.Contains(t, res.Error().Error(), tc.msg)
			}
		})
	}

}

func restClient(t *testing.T, cfg *rest.Config) rest.Interface {
	t.Helper()
	c, err := versioned.NewForConfig(cfg)
	require.NoError(t, err)
	return c.CoreV1beta1().RESTClient()
}

func TestAuthentication(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()

	anon, err := versioned.NewForConfig(s.AnonymousConfig())
	require.NoError(t, err)
	_, err = anon.CoreV1beta1().InternalSecrets(ns).List(ctx, metav1.ListOptions{})
	assert.True(t, apierrors.IsUnauthorized(err), "anonymous is 401, got %v", err)

	// Health paths stay open for probes.
	hc, err := rest.HTTPClientFor(s.AnonymousConfig())
	require.NoError(t, err)
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		resp, err := hc.Get(s.Admin.Host + p)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
	}

	user, err := versioned.NewForConfig(s.UserConfig(t, "alice", "developers"))
	require.NoError(t, err)
	_, err = user.CoreV1beta1().InternalSecrets(ns).List(ctx, metav1.ListOptions{})
	assert.True(t, apierrors.IsForbidden(err), "non-masters user is 403, got %v", err)

	admin, err := versioned.NewForConfig(s.UserConfig(t, "bob", "system:masters"))
	require.NoError(t, err)
	_, err = admin.CoreV1beta1().InternalSecrets(ns).List(ctx, metav1.ListOptions{})
	assert.NoError(t, err)
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := framework.Start(t, dir)
	ctx := context.Background()
	_, err := s.Client.CoreV1beta1().InternalSecrets(ns).Create(ctx, newSecret("persist", map[string]string{"k": "v"}), metav1.CreateOptions{})
	require.NoError(t, err)
	s.Stop()

	s2 := framework.Start(t, dir)
	got, err := s2.Client.CoreV1beta1().InternalSecrets(ns).Get(ctx, "persist", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Data["k"]))
}
