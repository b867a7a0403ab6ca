package integration

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// TestNoCredentialsInLogs: at -v=4 neither secret data nor issued private keys reach the log.
func TestNoCredentialsInLogs(t *testing.T) {
	logs := framework.CaptureKlog(t, 4)
	s := framework.Start(t, "")
	ctx := context.Background()
	const marker = "s3cr3t-MARKER-7f3a9c"
	c := s.Client.CoreV1beta1().InternalSecrets(ns)

	_, err := c.Create(ctx, newSecret("creds", map[string]string{"password": marker}), metav1.CreateOptions{})
	require.NoError(t, err)
	got, err := c.Get(ctx, "creds", metav1.GetOptions{})
	require.NoError(t, err)
	got.Data["token"] = []byte(marker + "-2")
	_, err = c.Update(ctx, got, metav1.UpdateOptions{})
	require.NoError(t, err)
	// A rejected write (tls type without tls.key) and a watch also carry the value.
	bad := newSecret("bad", map[string]string{"tls.crt": marker})
	bad.Type = "kubernetes.io/tls"
	_, err = c.Create(ctx, bad, metav1.CreateOptions{})
	require.Error(t, err)
	_, err = c.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)

	createShoot(t, s.Client, "logs", external)
	res, err := s.Client.CoreV1beta1().Shoots(ns).CreateAdminKubeconfigRequest(ctx, "logs", adminRequest(ptr.To[int64](600)), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Contains(t, string(res.Status.Kubeconfig), "client-key-data")
	_, err = s.Client.CoreV1beta1().Shoots(ns).CreateViewerKubeconfigRequest(ctx, "logs", &authv1alpha1.ViewerKubeconfigRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	s.Stop()

	out := logs.String()
	require.Contains(t, out, `"URI"="/apis/core.gardener.cloud/v1beta1/namespaces/`+ns+`/internalsecrets"`, "the capture sees request logs")
	require.Contains(t, out, `"level"=4`, "verbosity 4 is on")
	t.Logf("captured %d bytes of klog output at -v=4", len(out))
	for _, forbidden := range []string{
		marker,
		base64.StdEncoding.EncodeToString([]byte(marker)),
		base64.StdEncoding.EncodeToString([]byte(marker + "-2")),
		"PRIVATE KEY",
		"client-key-data",
		string(res.Status.Kubeconfig[len(res.Status.Kubeconfig)-60:]),
	} {
		assert.NotContains(t, out, forbidden)
	}
}

// TestTLSVersions: TLS 1.0 and 1.1 handshakes are refused, 1.2 and 1.3 accepted.
func TestTLSVersions(t *testing.T) {
	s := framework.Start(t, "")
	addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
	for _, tc := range []struct {
		name    string
		version uint16
		ok      bool
	}{
		{"TLS1.0", tls.VersionTLS10, false},
		{"TLS1.1", tls.VersionTLS11, false},
		{"TLS1.2", tls.VersionTLS12, true},
		{"TLS1.3", tls.VersionTLS13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Only the protocol version is under test here, not the certificate.
			conn, err := tls.Dial("tcp", addr, &tls.Config{MinVersion: tc.version, MaxVersion: tc.version, InsecureSkipVerify: true}) //nolint:gosec
			if !tc.ok {
				require.Error(t, err, "handshake must be refused")
				return
			}
			require.NoError(t, err)
			defer conn.Close()
			assert.Equal(t, tc.version, conn.ConnectionState().Version)
		})
	}
}

// TestStateDirPermissions: credentials in the state directory are private to the owner, also
// when an operator created the directory with a looser mode.
func TestStateDirPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chmod(dir, 0o755)) // whatever the umask
	s := framework.Start(t, dir)
	mode := func(p string) fs.FileMode {
		st, err := os.Stat(p)
		require.NoError(t, err)
		return st.Mode().Perm()
	}
	assert.Equal(t, fs.FileMode(0o600), mode(s.Kubeconfig), "admin kubeconfig")
	assert.Equal(t, fs.FileMode(0o600), mode(filepath.Join(s.StateDir, encryption.StandaloneConfigFile)), "encryption config")
	assert.Equal(t, fs.FileMode(0o700), mode(s.StateDir), "state dir")

	keys := 0
	require.NoError(t, filepath.WalkDir(s.StateDir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(s.StateDir, p)
		if d.IsDir() {
			assert.Equal(t, fs.FileMode(0o700), mode(p), "directory %s", rel)
			return nil
		}
		if strings.HasPrefix(rel, "pki"+string(filepath.Separator)) && strings.HasSuffix(p, ".key") {
			keys++
			assert.Equal(t, fs.FileMode(0o600), mode(p), "key file %s", rel)
		}
		return nil
	}))
	assert.NotZero(t, keys, "key files found under pki/")
}

// TestAnonymousAccess: without credentials only the probe paths answer 200.
func TestAnonymousAccess(t *testing.T) {
	s := framework.Start(t, "")
	hc, err := rest.HTTPClientFor(s.AnonymousConfig())
	require.NoError(t, err)
	get := func(p string) int {
		resp, err := hc.Get(s.Admin.Host + p)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		assert.Equal(t, http.StatusOK, get(p), p)
	}
	admin, err := rest.HTTPClientFor(s.Admin)
	require.NoError(t, err)
	for _, p := range []string{
		"/", "/apis", "/apis/core.gardener.cloud", "/apis/core.gardener.cloud/v1beta1",
		"/apis/core.gardener.cloud/v1beta1/internalsecrets",
		"/apis/core.gardener.cloud/v1beta1/namespaces/" + ns + "/internalsecrets",
		"/apis/core.gardener.cloud/v1beta1/namespaces/" + ns + "/shoots",
		"/version", "/metrics", "/openapi/v2", "/openapi/v3", "/debug/pprof/", "/healthz/etcd", "/readyz/etcd",
		encryption.StatusPath,
	} {
		assert.Equal(t, http.StatusUnauthorized, get(p), p)
		// The path exists: the 401 above is the authentication, not a missing handler.
		resp, err := admin.Get(s.Admin.Host + p)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s as admin", p)
	}
	// A subresource that answers POST only: still 401 before anything else.
	assert.Equal(t, http.StatusUnauthorized,
		get("/apis/core.gardener.cloud/v1beta1/namespaces/"+ns+"/shoots/x/adminkubeconfig"))
}

// TestHostileInput: malicious bodies and paths get a 4xx, never a 5xx, and the server stays ready.
func TestHostileInput(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	createShoot(t, s.Client, "hostile", external)
	hc, err := rest.HTTPClientFor(s.Admin)
	require.NoError(t, err)
	base := "/apis/core.gardener.cloud/v1beta1/namespaces/" + ns
	for _, tc := range hostileRequests(base) {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, tc.method, s.Admin.Host+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := hc.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "want 4xx, got %d", resp.StatusCode)
		})
	}

	list, err := s.Client.CoreV1beta1().InternalSecrets("").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, list.Items, 2, "only the two CA secrets of the fixture exist")
	_, err = s.Client.CoreV1beta1().Shoots(ns).Get(ctx, "hostile", metav1.GetOptions{})
	require.NoError(t, err, "the shoot survived")
	resp, err := hc.Get(s.Admin.Host + "/readyz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "still ready")
	// And still serving writes.
	_, err = s.Client.CoreV1beta1().InternalSecrets(ns).Create(ctx, newSecret("after", map[string]string{"k": "v"}), metav1.CreateOptions{})
	require.NoError(t, err)
}

// hostileRequest is a request with a malicious body or path.
type hostileRequest struct {
	name, method, path, contentType, body string
}

// hostileRequests are the requests of TestHostileInput for the namespace path base.
func hostileRequests(base string) []hostileRequest {
	secrets := base + "/internalsecrets"
	secret := func(name, data string) string {
		return `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":` + name + `},"data":` + data + `}`
	}
	nested := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	nestedObj := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)

	return []hostileRequest{
		{"10000 nested arrays in a data value", "POST", secrets, "application/json", secret(`"deep"`, `{"a":`+nested+`}`)},
		{"10000 nested objects in metadata", "POST", secrets, "application/json",
			`{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret","metadata":{"name":"deep2","labels":` + nestedObj + `}}`},
		{"10000 nested YAML flow sequences", "POST", secrets, "application/yaml",
			"apiVersion: core.gardener.cloud/v1beta1\nkind: InternalSecret\nmetadata: {name: deep3}\ndata: {a: " + nested + "}\n"},
		{"YAML alias bomb", "POST", secrets, "application/yaml",
			"apiVersion: core.gardener.cloud/v1beta1\nkind: InternalSecret\nmetadata: {name: bomb}\n" +
				"x0: &a0 [x,x,x,x,x,x,x,x,x,x]\nx1: &a1 [*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0]\nx2: &a2 [*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1]\n" +
				"x3: &a3 [*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2]\nx4: &a4 [*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3]\n" +
				"x5: &a5 [*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4]\nx6: &a6 [*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5]\n" +
				"x7: &a7 [*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6]\nx8: &a8 [*a7,*a7,*a7,*a7,*a7,*a7,*a7,*a7,*a7,*a7]\n"},
		{"invalid UTF-8 in a data key", "POST", secrets, "application/json", secret(`"utf8"`, "{\"a\xff\xfeb\":\"AA==\"}")},
		{"invalid UTF-8 in the name", "POST", secrets, "application/json", secret("\"n\xc3\x28\"", `{}`)},
		{"NUL in a data key", "POST", secrets, "application/json", secret(`"nul"`, `{"a\u0000b":"AA=="}`)},
		{"name ../x in the body", "POST", secrets, "application/json", secret(`"../x"`, `{}`)},
		{"name a/b in the body", "POST", secrets, "application/json", secret(`"a/b"`, `{}`)},
		{"GET ../x in the path", "GET", secrets + "/..%2Fx", "", ""},
		{"GET a/b in the path", "GET", secrets + "/a/b", "", ""},
		{"PUT a%2Fb", "PUT", secrets + "/a%2Fb", "application/json", secret(`"a/b"`, `{}`)},
		{"PUT ..", "PUT", secrets + "/..", "application/json", secret(`".."`, `{}`)},
		{"GET traversal out of the namespace", "GET", base + "/internalsecrets/..%2F..%2F..%2Fnamespaces%2Fother%2Finternalsecrets%2Fx", "", ""},
		{"DELETE with a traversal name", "DELETE", secrets + "/..%2F..%2Fshoots%2Fhostile", "", ""},
		{"Viewer request to adminkubeconfig", "POST", base + "/shoots/hostile/adminkubeconfig", "application/json",
			`{"apiVersion":"authentication.gardener.cloud/v1alpha1","kind":"ViewerKubeconfigRequest","spec":{}}`},
		{"InternalSecret to adminkubeconfig", "POST", base + "/shoots/hostile/adminkubeconfig", "application/json", secret(`"x"`, `{}`)},
		{"adminkubeconfig for ../hostile", "POST", base + "/shoots/..%2Fhostile/adminkubeconfig", "application/json",
			`{"apiVersion":"authentication.gardener.cloud/v1alpha1","kind":"AdminKubeconfigRequest","spec":{}}`},
		{"huge expirationSeconds", "POST", base + "/shoots/hostile/adminkubeconfig", "application/json",
			`{"apiVersion":"authentication.gardener.cloud/v1alpha1","kind":"AdminKubeconfigRequest","spec":{"expirationSeconds":1e300}}`},
		{"negative expirationSeconds", "POST", base + "/shoots/hostile/adminkubeconfig", "application/json",
			`{"apiVersion":"authentication.gardener.cloud/v1alpha1","kind":"AdminKubeconfigRequest","spec":{"expirationSeconds":-1}}`},
	}
}
