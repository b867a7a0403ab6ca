package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeCluster answers the pre-flight requests: /version fails with 503 the first unavailable
// times, the ConfigMap read answers configMapCode, reviews are created.
func fakeCluster(t *testing.T, unavailable int32, configMapCode int) (string, *atomic.Int32) {
	var versionCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/version":
			if versionCalls.Add(1) <= unavailable {
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(metav1.Status{Status: metav1.StatusFailure, Code: 503, Reason: metav1.StatusReasonServiceUnavailable})
				return
			}
			_, _ = io.WriteString(w, `{"major":"1","minor":"37","gitVersion":"v1.37.2"}`)
		case strings.HasSuffix(r.URL.Path, "/configmaps/extension-apiserver-authentication"):
			if configMapCode != http.StatusOK {
				w.WriteHeader(configMapCode)
				_ = json.NewEncoder(w).Encode(metav1.Status{Status: metav1.StatusFailure, Code: int32(configMapCode),
					Reason: metav1.StatusReasonForbidden, Message: `configmaps "extension-apiserver-authentication" is forbidden`})
				return
			}
			_, _ = io.WriteString(w, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"extension-apiserver-authentication","namespace":"kube-system"}}`)
		case r.URL.Path == "/api/v1/configmaps":
			if configMapListForbidden.Load() {
				w.WriteHeader(http.StatusForbidden)
				_ = json.NewEncoder(w).Encode(metav1.Status{Status: metav1.StatusFailure, Code: 403,
					Reason: metav1.StatusReasonForbidden, Message: `configmaps is forbidden: cannot list resource "configmaps"`})
				return
			}
			_, _ = io.WriteString(w, `{"apiVersion":"v1","kind":"ConfigMapList","metadata":{},"items":[]}`)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/tokenreviews"):
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":false}}`)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/subjectaccessreviews"):
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","status":{"allowed":false}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, srv.URL), 0o600))
	return path, &versionCalls
}

// configMapListForbidden makes fakeCluster refuse to list ConfigMaps.
var configMapListForbidden atomic.Bool

func TestCheckClusterNeedsConfigMapList(t *testing.T) {
	configMapListForbidden.Store(true)
	t.Cleanup(func() { configMapListForbidden.Store(false) })
	kubeconfig, _ := fakeCluster(t, 0, http.StatusOK)
	err := delegatedOptions(kubeconfig).checkCluster(context.Background(), 10*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listing ConfigMaps with --kubeconfig="+kubeconfig)
	assert.Contains(t, err.Error(), "artifacts/deploy/rbac-server.yaml")
}

func delegatedOptions(kubeconfig string) *ServerOptions {
	o := NewServerOptions(io.Discard)
	o.Recommended.CoreAPI.CoreAPIKubeconfigPath = kubeconfig
	o.Recommended.Authentication.RemoteKubeConfigFile = kubeconfig
	o.Recommended.Authorization.RemoteKubeConfigFile = kubeconfig
	return o
}

func TestCheckClusterRetriesAnUnavailableCluster(t *testing.T) {
	kubeconfig, calls := fakeCluster(t, 2, http.StatusOK)
	require.NoError(t, delegatedOptions(kubeconfig).checkCluster(context.Background(), 10*time.Second))
	assert.GreaterOrEqual(t, calls.Load(), int32(3), "two 503s, then success")
}

func TestCheckClusterFailsAtOnceWhenForbidden(t *testing.T) {
	kubeconfig, _ := fakeCluster(t, 0, http.StatusForbidden)
	start := time.Now()
	err := delegatedOptions(kubeconfig).checkCluster(context.Background(), 10*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kube-system/extension-apiserver-authentication")
	assert.Contains(t, err.Error(), "extension-apiserver-authentication-reader")
	assert.Contains(t, err.Error(), "--authentication-kubeconfig="+kubeconfig)
	assert.Less(t, time.Since(start), 5*time.Second, "a denial is final, not retried until the timeout")
}

func TestCheckClusterGivesUpOnAnUnreachableCluster(t *testing.T) {
	kubeconfig, _ := fakeCluster(t, 1000, http.StatusOK)
	err := delegatedOptions(kubeconfig).checkCluster(context.Background(), 2*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot reach the Kubernetes cluster")
	assert.Contains(t, err.Error(), "--kubeconfig="+kubeconfig)
	assert.Contains(t, err.Error(), "--standalone")
}

func TestCheckClusterNeedsAKubeconfigOutsideACluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	err := delegatedOptions("").checkCluster(context.Background(), time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no --kubeconfig given and not running in a cluster")
}
