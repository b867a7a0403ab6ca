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
	"slices"
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
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/selfsubjectaccessreviews"):
			// The body may be JSON or protobuf: both carry the resource name as it is.
			body, _ := io.ReadAll(r.Body)
			resource := "secrets"
			if strings.Contains(string(body), "configmaps") {
				resource = "configmaps"
			}
			selfReviews.Store(strings.TrimPrefix(selfReviews.Load().(string)+","+resource, ","))
			allowed := !slices.Contains(strings.Split(selfReviewDenied.Load().(string), ","), resource)
			w.WriteHeader(http.StatusCreated)
			_, _ = fmt.Fprintf(w, `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","status":{"allowed":%t}}`, allowed)
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

// selfReviewDenied lists the resources (comma-separated) fakeCluster's SelfSubjectAccessReviews
// deny get on; selfReviews records the resources asked about.
var selfReviewDenied, selfReviews atomic.Value

func init() {
	selfReviewDenied.Store("")
	selfReviews.Store("")
}

// TestCheckClusterChecksTheClusterCASourcesInUse: a source that is off is not checked; one that is
// on needs get on its resource in all namespaces.
func TestCheckClusterChecksTheClusterCASourcesInUse(t *testing.T) {
	t.Cleanup(func() { selfReviewDenied.Store(""); selfReviews.Store("") })
	kubeconfig, _ := fakeCluster(t, 0, http.StatusOK)

	selfReviewDenied.Store("configmaps,secrets")
	require.NoError(t, delegatedOptions(kubeconfig).checkCluster(context.Background(), 10*time.Second))
	assert.Empty(t, selfReviews.Load(), "the default source (internalsecret) asks the cluster nothing")

	o := delegatedOptions(kubeconfig)
	o.ShootAccess.ClusterCASources = []string{"configmap", "secret"}
	selfReviewDenied.Store("secrets")
	err := o.checkCluster(context.Background(), 10*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--shoot-cluster-ca-sources includes secret, but --kubeconfig="+kubeconfig+" may not get secrets")
	assert.Contains(t, err.Error(), "artifacts/cluster-ca-sources")

	selfReviews.Store("")
	selfReviewDenied.Store("")
	require.NoError(t, o.checkCluster(context.Background(), 10*time.Second))
	assert.Equal(t, "configmaps,secrets", selfReviews.Load())
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

func TestValidateRefusesClusterSourcesInStandalone(t *testing.T) {
	o := NewServerOptions(io.Discard)
	o.Standalone.Enabled = true
	o.ShootAccess.ClusterCASources = []string{"internalsecret", "configmap"}
	err := o.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--shoot-cluster-ca-sources=internalsecret,configmap: configmap and secret are read from the cluster, which --standalone does not have")
}
