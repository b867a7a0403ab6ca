package robustness

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
)

// Wire formats of the clients.
const (
	JSON     = "application/json"
	Protobuf = "application/vnd.kubernetes.protobuf"
)

// NewClient is an admin clientset of the replica speaking the given content type. client-go
// retries a request answered with Retry-After; a retried create that had landed would answer
// 409 and look like a lost write, so the header is dropped: every request is sent once and
// recorded with the outcome of that one attempt.
func NewClient(r *Replica, contentType string) (versioned.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.StateDir, "admin.kubeconfig"))
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit
	cfg.ContentType = contentType
	cfg.AcceptContentTypes = contentType
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if resp != nil {
				resp.Header.Del("Retry-After")
			}
			return resp, err
		})
	}
	return versioned.NewForConfig(cfg)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// EncryptionStatus is the part of /encryption-status the suite reads.
type EncryptionStatus struct {
	AllMigrated   bool   `json:"allMigrated"`
	ConfigHash    string `json:"configHash"`
	ConfigLoaded  bool   `json:"configLoaded"`
	Migrating     bool   `json:"migrating"`
	ReplicasAgree bool   `json:"replicasAgree"`
	Resources     []struct {
		Resource    string         `json:"resource"`
		WritePrefix string         `json:"writePrefix"`
		Objects     int            `json:"objects"`
		Remaining   int            `json:"remaining"`
		StoredWith  map[string]int `json:"storedWith"`
		Migrated    int64          `json:"migrated"`
		Errors      int64          `json:"errors"`
	} `json:"resources"`
}

// ReadEncryptionStatus asks a replica for /encryption-status.
func ReadEncryptionStatus(ctx context.Context, c versioned.Interface) (*EncryptionStatus, error) {
	raw, err := c.Discovery().RESTClient().Get().AbsPath("/encryption-status").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	st := &EncryptionStatus{}
	return st, json.Unmarshal(raw, st)
}
