package compat

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gardencoreinstall "github.com/gardener/gardener/pkg/apis/core/install"
	operationsinstall "github.com/gardener/gardener/pkg/apis/operations/install"
	securityinstall "github.com/gardener/gardener/pkg/apis/security/install"
	seedmanagementinstall "github.com/gardener/gardener/pkg/apis/seedmanagement/install"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kubernetesscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// gardenClientScheme is Gardener's garden scheme (GardenScheme of
// github.com/gardener/gardener/pkg/client/kubernetes, less kube-aggregator's APIService kinds,
// which we do not serve), and core.gardener.cloud is registered for protobuf as that package's
// init() does: controller-runtime clients then send and read Shoots and InternalSecrets as
// protobuf, as every Gardener component does.
var gardenClientScheme = runtime.NewScheme()

func init() {
	garden := runtime.NewSchemeBuilder(
		kubernetesscheme.AddToScheme,
		gardencoreinstall.AddToScheme,
		seedmanagementinstall.AddToScheme,
		operationsinstall.AddToScheme,
		securityinstall.AddToScheme,
	)
	utilruntime.Must(garden.AddToScheme(gardenClientScheme))
	protobufKinds := runtime.NewSchemeBuilder(
		gardencoreinstall.AddToScheme,
		seedmanagementinstall.AddToScheme,
		securityinstall.AddToScheme,
	)
	utilruntime.Must(apiutil.AddToProtobufScheme(protobufKinds.AddToScheme))
}

// The live server: one standalone garden-apiserver for every live test, started on first use.
var live struct {
	once       sync.Once
	err        error
	dir        string
	proc       *procs.Process
	kubeconfig string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if live.proc != nil {
		live.proc.Stop()
	}
	if code != 0 && live.proc != nil {
		// The server's side of a failure; the directory is kept for the rest.
		fmt.Fprintf(os.Stderr, "garden-apiserver log %s; panics:\n%s", live.proc.LogPath, panics(live.proc.LogPath))
	} else if live.dir != "" {
		_ = os.RemoveAll(live.dir)
	}
	os.Exit(code)
}

// panics returns the first lines of each panic the server recovered from.
func panics(logPath string) string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return err.Error()
	}
	var out []string
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.Contains(l, "Observed a panic") {
			out = append(out, lines[i:min(i+2, len(lines))]...)
		}
	}
	return strings.Join(out, "\n")
}

// serverBinary is the build of `make build` (the make target builds it first).
func serverBinary() string {
	if bin := os.Getenv("GARDEN_APISERVER_BIN"); bin != "" {
		return bin
	}
	return filepath.Join("..", "..", "_output", "bin", "garden-apiserver")
}

// liveKubeconfig starts the server once (standalone, embedded etcd, loopback) and returns the
// path of its admin kubeconfig.
func liveKubeconfig(t *testing.T) string {
	t.Helper()
	live.once.Do(func() { live.err = startLive() })
	if live.err != nil {
		t.Fatal(live.err)
	}
	return live.kubeconfig
}

func startLive() error {
	bin, err := filepath.Abs(serverBinary())
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("no server binary (%w): run `make compat`, which builds it, or set GARDEN_APISERVER_BIN", err)
	}
	if live.dir, err = os.MkdirTemp("", "garden-compat-"); err != nil {
		return err
	}
	port, err := procs.FreePort()
	if err != nil {
		return err
	}
	state := filepath.Join(live.dir, "state")
	live.proc, err = procs.Start("garden-apiserver", filepath.Join(live.dir, "garden-apiserver.log"), bin,
		"--standalone", "--state-dir", state, "--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(port))
	if err != nil {
		return err
	}
	caFile := filepath.Join(state, "pki", "serving-ca.crt")
	// The serving CA is generated at the first start; poll until it is there.
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		_, statErr := os.Stat(caFile)
		return statErr == nil || live.proc.Exited(), nil
	}); err != nil {
		return fmt.Errorf("garden-apiserver wrote no serving CA: %w\n%s", err, procs.Tail(live.proc.LogPath, 30))
	}
	if err := procs.WaitHealthy(live.proc, fmt.Sprintf("https://127.0.0.1:%d/readyz", port), caFile, "", time.Minute); err != nil {
		return err
	}
	live.kubeconfig = filepath.Join(state, "admin.kubeconfig")
	return nil
}

// exchange is one request to core.gardener.cloud as it went over the wire.
type exchange struct {
	method, path, sent, received string
}

// recorder keeps the media types of every core.gardener.cloud request, so a test can prove which
// encoding the client really used.
type recorder struct {
	mu   sync.Mutex
	seen []exchange
}

func (r *recorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err == nil && strings.Contains(req.URL.Path, "/core.gardener.cloud/") {
			r.mu.Lock()
			r.seen = append(r.seen, exchange{req.Method, req.URL.Path, req.Header.Get("Content-Type"), resp.Header.Get("Content-Type")})
			r.mu.Unlock()
		}
		return resp, err
	})
}

// requireMediaType fails unless every body sent (other than patches) and received was mediaType.
func (r *recorder) requireMediaType(t *testing.T, mediaType string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		t.Fatal("no request to core.gardener.cloud was recorded")
	}
	for _, e := range r.seen {
		if e.sent != "" && !strings.Contains(e.sent, "patch") && !strings.HasPrefix(e.sent, mediaType) {
			t.Errorf("%s %s sent %s, want %s", e.method, e.path, e.sent, mediaType)
		}
		if !strings.HasPrefix(e.received, mediaType) {
			t.Errorf("%s %s received %s, want %s", e.method, e.path, e.received, mediaType)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// clientModes are the two ways Gardener's components talk to the garden: protobuf (the default
// of Gardener's client setup) and JSON (rest.Config.ContentType set, as a ClientConnectionConfiguration may).
var clientModes = []struct{ name, contentType string }{
	{"protobuf", runtime.ContentTypeProtobuf},
	{"json", runtime.ContentTypeJSON},
}

// newGardenClient is a controller-runtime client with Gardener's scheme on the admin kubeconfig.
// An empty contentType leaves the choice to controller-runtime (protobuf for core.gardener.cloud).
func newGardenClient(t *testing.T, contentType string) (client.Client, *recorder) {
	t.Helper()
	cfg := restConfig(t)
	if contentType == runtime.ContentTypeJSON {
		cfg.ContentType = contentType
	}
	rec := &recorder{}
	cfg.WrapTransport = rec.wrap
	c, err := client.New(cfg, client.Options{Scheme: gardenClientScheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func restConfig(t *testing.T) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", liveKubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
