package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
)

// mustKubectl runs kubectl and fails the test if it fails.
func mustKubectl(t *testing.T, user string, args ...string) string {
	t.Helper()
	out, err := kubectl(user, args...)
	if err != nil {
		t.Fatalf("kubectl %s (as %s): %v\n%s", strings.Join(args, " "), user, err, out)
	}
	return out
}

func mustKubectlStdin(t *testing.T, user, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectlStdin(user, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s (as %s): %v\n%s\nstdin:\n%s", strings.Join(args, " "), user, err, out, stdin)
	}
	return out
}

// kubectlFails runs kubectl, expects it to fail, and checks that its output contains every want.
func kubectlFails(t *testing.T, user string, args []string, want ...string) string {
	t.Helper()
	out, err := kubectl(user, args...)
	if err == nil {
		t.Fatalf("kubectl %s (as %s) succeeded, want failure containing %q:\n%s", strings.Join(args, " "), user, want, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("kubectl %s (as %s): output does not contain %q:\n%s", strings.Join(args, " "), user, w, out)
		}
	}
	return out
}

func assertContains(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("output does not contain %q:\n%s", w, s)
		}
	}
}

// httpsClient trusts caFile and presents the client certificate when certFile is set.
func httpsClient(t *testing.T, caFile, certFile, keyFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: x509.NewCertPool()}
	cfg.RootCAs.AppendCertsFromPEM(pem)
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// status sends a GET to url with the headers and returns the status code and body.
func status(t *testing.T, c *http.Client, url string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// kubeconfigFromResponse decodes the AdminKubeconfigRequest (or Viewer...) that
// kubectl create --raw printed and returns the kubeconfig and its expiration.
func kubeconfigFromResponse(t *testing.T, out string) (*clientcmdapi.Config, []byte, time.Time) {
	t.Helper()
	var resp authv1alpha1.AdminKubeconfigRequest
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("decoding the kubeconfig response: %v\n%s", err, out)
	}
	if len(resp.Status.Kubeconfig) == 0 {
		t.Fatalf("the response carries no kubeconfig:\n%s", out)
	}
	cfg, err := clientcmd.Load(resp.Status.Kubeconfig)
	if err != nil {
		t.Fatalf("the returned kubeconfig does not load: %v", err)
	}
	return cfg, resp.Status.Kubeconfig, resp.Status.ExpirationTimestamp.Time
}

func shootPath(namespace, name, sub string) string {
	return fmt.Sprintf("/apis/core.gardener.cloud/v1beta1/namespaces/%s/shoots/%s/%s", namespace, name, sub)
}

// eventually retries f every 200 ms until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
