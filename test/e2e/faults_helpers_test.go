package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// Helpers of faults_test.go: processes the tests start and kill, a writer that records what was
// acknowledged, a watcher that records what it saw.

// --- standalone servers ---

type gardenServer struct {
	name, stateDir string
	port           int
	args           []string
	proc           *process
	http           *http.Client
}

// newGarden prepares a standalone server on its own state directory; start runs it.
func newGarden(t *testing.T, name string, extra ...string) *gardenServer {
	t.Helper()
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &gardenServer{name: name, stateDir: t.TempDir(), port: port}
	s.args = append([]string{"--standalone", "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--state-dir=" + s.stateDir}, extra...)
	// Health probes only: the serving CA does not exist before the first start.
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	s.http = &http.Client{Timeout: 5 * time.Second, Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if s.proc != nil {
			s.proc.Stop()
		}
	})
	return s
}

func (s *gardenServer) url() string { return fmt.Sprintf("https://127.0.0.1:%d", s.port) }

// start runs the server and waits until /readyz answers 200; it returns how long that took.
func (s *gardenServer) start(t *testing.T) time.Duration {
	t.Helper()
	begin := time.Now()
	p, err := env.start(s.name, env.bins.gardenAPI, s.args...)
	if err != nil {
		t.Fatal(err)
	}
	s.proc = p
	caFile := filepath.Join(s.stateDir, "pki", "serving-ca.crt")
	waitFor(t, 30*time.Second, s.name+" writing its serving CA", func() bool { _, err := os.Stat(caFile); return err == nil || p.Exited() })
	if err := procs.WaitHealthy(p, s.url()+"/readyz", caFile, "", 60*time.Second); err != nil {
		t.Fatal(err)
	}
	return time.Since(begin)
}

// get returns the status and body of an anonymous GET (0 when the server does not answer).
func (s *gardenServer) get(path string) (int, string) {
	resp, err := s.http.Get(s.url() + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// client is an admin clientset from the standalone kubeconfig. With a timeout, mutating requests
// ask the server to give up after it (?timeout=), so a stuck write gets the server's answer
// (504) instead of the default 60 s wait.
func (s *gardenServer) client(t *testing.T, timeout time.Duration) versioned.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(s.stateDir, "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	if timeout > 0 {
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Method == http.MethodPost {
					r = r.Clone(r.Context())
					q := r.URL.Query()
					q.Set("timeout", timeout.String())
					r.URL.RawQuery = q.Encode()
				}
				return rt.RoundTrip(r)
			})
		}
	}
	c, err := versioned.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func assertNoPanic(t *testing.T, p *process) {
	t.Helper()
	for _, line := range strings.Split(readFile(t, p.LogPath), "\n") {
		if strings.Contains(strings.ToLower(line), "panic") && !strings.Contains(line, "panicked: false") {
			t.Errorf("%s logged a panic: %s", p.Name, line)
		}
	}
}

// readyzFailures keeps the failed checks of a verbose /readyz body.
func readyzFailures(body string) string {
	var failed []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "[-]") {
			failed = append(failed, l)
		}
	}
	return strings.Join(failed, "\n")
}

// --- etcd ---

type etcdMember struct {
	name, clientURL string
	args            []string
	proc            *process
}

// newEtcd prepares an n-member cluster on loopback (peers over plain http).
func newEtcd(t *testing.T, prefix string, n int, scheme string, extra ...string) []*etcdMember {
	t.Helper()
	dir := t.TempDir()
	ports := map[int]bool{}
	port := func() int {
		for {
			p, err := procs.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			if !ports[p] {
				ports[p] = true
				return p
			}
		}
	}
	members := make([]*etcdMember, n)
	var cluster []string
	for i := range members {
		m := &etcdMember{name: fmt.Sprintf("%s-%d", prefix, i), clientURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, port())}
		peer := fmt.Sprintf("http://127.0.0.1:%d", port())
		m.args = []string{"--name=" + m.name, "--data-dir=" + filepath.Join(dir, m.name),
			"--listen-client-urls=" + m.clientURL, "--advertise-client-urls=" + m.clientURL,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer, "--initial-cluster-token=" + prefix}
		cluster = append(cluster, m.name+"="+peer)
		members[i] = m
	}
	for _, m := range members {
		m.args = append(append(m.args, "--initial-cluster="+strings.Join(cluster, ",")), extra...)
		t.Cleanup(func() {
			if m.proc != nil {
				m.proc.Stop()
			}
		})
	}
	return members
}

// startEtcd starts the members (again, after a kill: same data directory and ports) and waits
// until each reports healthy. client is for TLS members.
func startEtcd(t *testing.T, client *http.Client, members ...*etcdMember) {
	t.Helper()
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	for _, m := range members {
		p, err := env.start(m.name, env.bins.etcd, m.args...)
		if err != nil {
			t.Fatal(err)
		}
		m.proc = p
	}
	for _, m := range members {
		waitFor(t, 30*time.Second, m.name+" healthy", func() bool {
			if m.proc.Exited() {
				t.Fatalf("%s exited: %v\n%s", m.name, m.proc.Err(), procs.Tail(m.proc.LogPath, 20))
			}
			resp, err := client.Get(m.clientURL + "/health")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
}

// etcdLeader asks the running members (v3 JSON gateway) which one leads.
func etcdLeader(t *testing.T, members []*etcdMember) *etcdMember {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	var leader *etcdMember
	waitFor(t, 10*time.Second, "an etcd leader", func() bool {
		for _, m := range members {
			if m.proc.Exited() {
				continue
			}
			resp, err := client.Post(m.clientURL+"/v3/maintenance/status", "application/json", strings.NewReader("{}"))
			if err != nil {
				continue
			}
			var st struct {
				Header struct {
					MemberID string `json:"member_id"`
				} `json:"header"`
				Leader string `json:"leader"`
			}
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil && st.Leader != "" && st.Leader == st.Header.MemberID {
				leader = m
				return true
			}
		}
		return false
	})
	return leader
}

func indexOf(members []*etcdMember, m *etcdMember) int {
	for i := range members {
		if members[i] == m {
			return i
		}
	}
	return -1
}

// --- the writer ---

// writer creates InternalSecrets with random data and records what the server acknowledged.
type writer struct {
	c       versioned.Interface
	retries int // per create; an AlreadyExists on a retry with our data counts as acknowledged

	attempted atomic.Int64
	mu        sync.Mutex
	acked     map[string][]byte
	ackTimes  []time.Time
	retried   map[string]int // errors a retry absorbed, by class
	failed    map[string]int // errors left to the caller, by class
	samples   map[string]string
	found     int
	unacked   int
}

func newWriter(c versioned.Interface, retries int) *writer {
	return &writer{c: c, retries: retries, acked: map[string][]byte{}, retried: map[string]int{},
		failed: map[string]int{}, samples: map[string]string{}}
}

// run creates from `workers` goroutines until ctx is done or each has made max creates.
func (w *writer) run(ctx context.Context, workers, max int) {
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < max && ctx.Err() == nil; n++ {
				w.create(fmt.Sprintf("w%d-%05d", i, n))
				time.Sleep(5 * time.Millisecond) // a steady load, not a benchmark
			}
		}()
	}
	wg.Wait()
}

func (w *writer) create(name string) {
	w.attempted.Add(1)
	data := []byte(randomString(32))
	obj := &v1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: faultsNS}, Data: map[string][]byte{"v": data}}
	for attempt := 0; ; attempt++ {
		// Not the run's context: a create in flight at the end finishes, so its outcome is known.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := w.c.CoreV1beta1().InternalSecrets(faultsNS).Create(ctx, obj, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) && attempt > 0 {
			got, gerr := w.c.CoreV1beta1().InternalSecrets(faultsNS).Get(ctx, name, metav1.GetOptions{})
			if gerr == nil && bytes.Equal(got.Data["v"], data) {
				err = nil
			}
		}
		cancel()
		w.mu.Lock()
		if err == nil {
			w.acked[name] = data
			w.ackTimes = append(w.ackTimes, time.Now())
			w.mu.Unlock()
			return
		}
		class := errClass(err)
		if _, ok := w.samples[class]; !ok {
			w.samples[class] = err.Error()
		}
		last := attempt >= w.retries
		if last {
			w.failed[class]++
		} else {
			w.retried[class]++
		}
		w.mu.Unlock()
		time.Sleep(100 * time.Millisecond) // no hot loop against a dead server
		if last {
			return
		}
	}
}

func errClass(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		s := st.Status()
		class := fmt.Sprintf("%d %s", s.Code, s.Reason)
		if s.Reason == "" {
			class += "(no reason)"
		}
		return class
	}
	msg := err.Error()
	for _, known := range []string{"connection refused", "connection reset", "unexpected EOF", "EOF", "context deadline exceeded", "stream error"} {
		if strings.Contains(msg, known) {
			return "transport: " + known
		}
	}
	return "transport: other"
}

// timeouts counts the creates that failed with 503 or 504.
func (w *writer) timeouts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for class, c := range w.failed {
		if strings.HasPrefix(class, "503") || strings.HasPrefix(class, "504") {
			n += c
		}
	}
	return n
}

func (w *writer) ackCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// longestGap is the longest time in [from, to] without an acknowledgement.
func (w *writer) longestGap(from, to time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var gap time.Duration
	last := from
	for _, at := range w.ackTimes {
		if at.After(from) && !at.After(to) {
			gap, last = max(gap, at.Sub(last)), at
		}
	}
	return max(gap, to.Sub(last))
}

func (w *writer) acksSince(since time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := sort.Search(len(w.ackTimes), func(i int) bool { return !w.ackTimes[i].Before(since) })
	return len(w.ackTimes) - i
}

// verify lists the namespace and checks every acknowledged create and its exact data.
func (w *writer) verify(t *testing.T, c versioned.Interface) {
	t.Helper()
	var list *v1beta1.InternalSecretList
	waitFor(t, 20*time.Second, "listing the written objects", func() bool {
		var err error
		list, err = c.CoreV1beta1().InternalSecrets(faultsNS).List(context.Background(), metav1.ListOptions{})
		return err == nil
	})
	stored := map[string][]byte{}
	for _, o := range list.Items {
		stored[o.Name] = o.Data["v"]
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var lost, wrong []string
	for name, data := range w.acked {
		got, ok := stored[name]
		switch {
		case !ok:
			lost = append(lost, name)
		case !bytes.Equal(got, data):
			wrong = append(wrong, name)
		}
	}
	w.found = len(w.acked) - len(lost)
	w.unacked = len(stored) - w.found
	if len(lost) > 0 || len(wrong) > 0 {
		t.Errorf("of %d acknowledged creates, %d are missing (%v) and %d have other data (%v)",
			len(w.acked), len(lost), first(lost, 5), len(wrong), first(wrong, 5))
	}
}

func (w *writer) report(t *testing.T) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("writes attempted=%d acknowledged=%d found=%d (stored without acknowledgement: %d); errors returned: %v; errors absorbed by retries: %v",
		w.attempted.Load(), len(w.acked), w.found, w.unacked, w.failed, w.retried)
	for class, msg := range w.samples {
		t.Logf("  %s: %s", class, clip(msg, 300))
	}
}

// unseen counts acknowledged creates the watcher has not seen.
func (w *writer) unseen(wt *watcher) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	wt.mu.Lock()
	defer wt.mu.Unlock()
	n := 0
	for name := range w.acked {
		if !wt.added[name] {
			n++
		}
	}
	return n
}

// --- the watcher ---

type watcher struct {
	mu               sync.Mutex
	added            map[string]bool
	lastRV           string
	firstAfterResume string // resourceVersion of the first event of a later watch
	watches          int
	events           int
}

// follow consumes a watch until it ends; a watch.Error event is returned as an error.
func (wt *watcher) follow(w watch.Interface) error {
	wt.mu.Lock()
	wt.watches++
	n := wt.watches
	wt.mu.Unlock()
	for ev := range w.ResultChan() {
		if ev.Type == watch.Error {
			return apierrors.FromObject(ev.Object)
		}
		o, ok := ev.Object.(*v1beta1.InternalSecret)
		if !ok {
			continue
		}
		wt.mu.Lock()
		if n > 1 && wt.firstAfterResume == "" {
			wt.firstAfterResume = o.ResourceVersion
		}
		if ev.Type == watch.Added {
			wt.added[o.Name] = true
		}
		wt.lastRV = o.ResourceVersion
		wt.events++
		wt.mu.Unlock()
	}
	return nil
}

func (wt *watcher) rv() string {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.lastRV
}

func (wt *watcher) count() int {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.events
}

func rvAtMost(a, b string) bool {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	return x <= y
}

// --- small helpers ---

func goRun(f func()) <-chan struct{} {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	return done
}

// waitFor is eventually for a condition without an error to report.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	eventually(t, timeout, what, func() error {
		if cond() {
			return nil
		}
		return errors.New("condition not met")
	})
}

func randomString(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
