// Command perf is a load generator for a running garden-apiserver (loopback only).
//
//	go run ./test/perf -kubeconfig DIR/admin.kubeconfig -duration 5s
//
// It measures InternalSecret create/get/update/delete, lists, watch fan-out and admin
// kubeconfig issuance, and prints a Markdown table of throughput and p50/p99 latency.
// Every phase is bounded by -duration; the tool stops by itself. With -load N it only
// creates N 1 KiB InternalSecrets (for memory measurements) and exits.
//
// With -compare it starts its own etcd, kube-apiserver and garden-apiserver (binaries from
// make tools and make build) and compares them side by side, then measures memory and cold
// start (compare*.go, memory.go).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

const stampAnnotation = "perf.garden-apiserver.io/sent-unix-nano"

var (
	kubeconfig = flag.String("kubeconfig", "", "admin kubeconfig of the server under test (required)")
	duration   = flag.Duration("duration", 5*time.Second, "length of each measured phase")
	phases     = flag.String("phases", "crud,list,watch,issue", "comma-separated phases: crud, list, watch, issue, pool (key pool), idle (CPU)")
	clients    = flag.String("clients", "1,16", "comma-separated client concurrencies for crud and issue")
	listSize   = flag.Int("list-size", 500, "objects in the listed namespace")
	watchers   = flag.Int("watchers", 50, "concurrent watchers in the fan-out phase")
	watchRate  = flag.Int("watch-writes-per-second", 50, "writes per second during the fan-out phase")
	keyLabel   = flag.String("key-label", "", "label for the issuance rows (the server's --shoot-kubeconfig-key-type)")
	load       = flag.Int("load", 0, "only create this many 1 KiB InternalSecrets (16 clients) and exit")
	ready      = flag.Bool("ready", false, "only check /readyz with the kubeconfig's identity and exit")
	noHeader   = flag.Bool("no-header", false, "omit the table header")
	prefix     = flag.String("namespace-prefix", "perf", "prefix of the namespaces used")
	mediaType  = flag.String("content-type", "", "media type of requests and responses (default: the clientset's, protobuf)")

	// -compare: the side-by-side run (compare*.go, memory.go).
	compare         = flag.Bool("compare", false, "start etcd, kube-apiserver and garden-apiserver and compare them side by side (no -kubeconfig)")
	toolsDir        = flag.String("tools-dir", "_output/tools/bin", "directory with the etcd and kube-apiserver binaries (-compare)")
	serverBin       = flag.String("server-bin", "_output/bin/garden-apiserver", "garden-apiserver binary (-compare)")
	memObjects      = flag.String("mem-objects", "10000,100000", "ascending numbers of stored InternalSecrets for RSS and cold start, empty to skip (-compare)")
	verdictFile     = flag.String("verdicts", "", "write the target verdict rows (Markdown) to this file (-compare)")
	pprofDir        = flag.String("pprof-dir", "", "save CPU profiles of the servers during the -compare rows here")
	compareDuration = flag.Duration("compare-duration", 10*time.Second, "total length of each -compare row, split into -rounds slices")
	rounds          = flag.Int("rounds", 4, "slices per -compare row; the targets take turns in each")
	keepDir         = flag.Bool("keep", false, "keep the -compare work directory (logs, certificates)")
)

type result struct {
	op      string
	clients int
	lat     []time.Duration
	elapsed time.Duration
	errors  int64
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}

func run() error {
	if *compare {
		// The backstop for the whole side-by-side run; every step is bounded on its own too.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		return runCompare(ctx)
	}
	if *clusterCAMemory > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		return runClusterCAMemory(ctx)
	}
	if *kubeconfig == "" {
		return errors.New("-kubeconfig is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	if err := loopbackOnly(cfg.Host); err != nil {
		return err
	}
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	cfg.Timeout = 30 * time.Second
	if *mediaType != "" {
		cfg.ContentType, cfg.AcceptContentTypes = *mediaType, *mediaType
	}
	c, err := versioned.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// A hard stop in case the server hangs: every phase is bounded, this is the backstop.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if *ready {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		defer rcancel()
		_, err := c.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		return err
	}
	run := strconv.FormatInt(time.Now().Unix(), 36)

	if *load > 0 {
		start := time.Now()
		n, errs := createN(ctx, c, *prefix+"-load-"+run, *load, 16)
		fmt.Printf("loaded %d InternalSecrets in %s (%d errors)\n", n, time.Since(start).Round(time.Millisecond), errs)
		if errs > 0 {
			return fmt.Errorf("%d creates failed", errs)
		}
		return nil
	}

	results, err := runPhases(ctx, c, run)
	if err != nil {
		return err
	}
	printTable(results)
	return nil
}

// runPhases runs the phases of -phases in order, objects named after the run.
func runPhases(ctx context.Context, c versioned.Interface, run string) ([]result, error) {
	conc, err := parseInts(*clients)
	if err != nil {
		return nil, err
	}
	var results []result
	for _, p := range strings.Split(*phases, ",") {
		switch strings.TrimSpace(p) {
		case "crud":
			for _, n := range conc {
				r, err := crud(ctx, c, fmt.Sprintf("%s-crud%d-%s", *prefix, n, run), n)
				if err != nil {
					return nil, err
				}
				results = append(results, r...)
			}
		case "list":
			r, err := lists(ctx, c, fmt.Sprintf("%s-list-%s", *prefix, run))
			if err != nil {
				return nil, err
			}
			results = append(results, r...)
		case "watch":
			r, err := fanout(ctx, c, fmt.Sprintf("%s-watch-%s", *prefix, run))
			if err != nil {
				return nil, err
			}
			results = append(results, r)
		case "issue":
			ns := fmt.Sprintf("%s-issue-%s", *prefix, run)
			if err := createShoot(ctx, c, ns, "perf"); err != nil {
				return nil, err
			}
			for _, n := range conc {
				results = append(results, issue(ctx, c, ns, "perf", n))
			}
		case "pool":
			ns := fmt.Sprintf("%s-pool-%s", *prefix, run)
			if err := createShoot(ctx, c, ns, "perf"); err != nil {
				return nil, err
			}
			if err := keyPool(ctx, c, ns, "perf"); err != nil {
				return nil, err
			}
		case "idle":
			if err := idlePhase(ctx, c); err != nil {
				return nil, err
			}
		case "":
		default:
			return nil, fmt.Errorf("unknown phase %q", p)
		}
	}
	return results, nil
}

func loopbackOnly(host string) error {
	u, err := url.Parse(host)
	if err != nil {
		return err
	}
	h := u.Hostname()
	if h == "localhost" {
		return nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to load %s: only loopback servers are allowed", host)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad concurrency %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func payload() map[string][]byte {
	b := make([]byte, 1024)
	_, _ = rand.Read(b)
	return map[string][]byte{"data": b}
}

func secret(ns, name string) *corev1beta1.InternalSecret {
	return &corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: payload()}
}

// errDone tells workers that a goroutine has nothing left to do.
var errDone = errors.New("done")

// workers runs fn on n goroutines until the deadline or until fn returns errDone, and collects
// the latency of each successful call.
func workers(op string, n int, d time.Duration, fn func(w, i int) error) result {
	deadline := time.Now().Add(d)
	lats := make([][]time.Duration, n)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				err := fn(w, i)
				switch {
				case errors.Is(err, errDone):
					return
				case err != nil:
					if errs.Add(1) <= 3 {
						fmt.Fprintf(os.Stderr, "perf: %s: %v\n", op, err)
					}
				default:
					lats[w] = append(lats[w], time.Since(t0))
				}
			}
		}()
	}
	wg.Wait()
	r := result{op: op, clients: n, elapsed: time.Since(start), errors: errs.Load()}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	return r
}

// crud measures create, get, update and delete in turn; each worker owns the objects it
// created, so updates and deletes never conflict.
func crud(ctx context.Context, c versioned.Interface, ns string, n int) ([]result, error) {
	api := c.CoreV1beta1().InternalSecrets(ns)
	owned := make([][]*corev1beta1.InternalSecret, n)
	create := workers("InternalSecret create", n, *duration, func(w, i int) error {
		s, err := api.Create(ctx, secret(ns, fmt.Sprintf("s-%d-%d", w, i)), metav1.CreateOptions{})
		if err == nil {
			owned[w] = append(owned[w], s)
		}
		return err
	})
	for _, o := range owned {
		if len(o) == 0 {
			return nil, fmt.Errorf("worker created nothing in %s", ns)
		}
	}
	get := workers("InternalSecret get", n, *duration, func(w, i int) error {
		_, err := api.Get(ctx, owned[w][i%len(owned[w])].Name, metav1.GetOptions{})
		return err
	})
	update := workers("InternalSecret update", n, *duration, func(w, i int) error {
		k := i % len(owned[w])
		s := owned[w][k].DeepCopy()
		s.Data = payload()
		u, err := api.Update(ctx, s, metav1.UpdateOptions{})
		if err == nil {
			owned[w][k] = u
		}
		return err
	})
	del := workers("InternalSecret delete", n, *duration, func(w, i int) error {
		if i >= len(owned[w]) {
			return errDone
		}
		return api.Delete(ctx, owned[w][i].Name, metav1.DeleteOptions{})
	})
	// A delete row that ran out of objects before the deadline must not count idle time.
	del.elapsed = sumBusy(del)
	cleanup(ctx, c, ns)
	return []result{create, get, update, del}, nil
}

// sumBusy estimates wall time for a phase whose workers may stop early: the total busy
// time divided by the concurrency.
func sumBusy(r result) time.Duration {
	var t time.Duration
	for _, l := range r.lat {
		t += l
	}
	if r.clients == 0 || t == 0 {
		return r.elapsed
	}
	return min(r.elapsed, t/time.Duration(r.clients))
}

func createN(ctx context.Context, c versioned.Interface, ns string, total, n int) (int64, int64) {
	api := c.CoreV1beta1().InternalSecrets(ns)
	var next, done, errs atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) || ctx.Err() != nil {
					return
				}
				if _, err := api.Create(ctx, secret(ns, fmt.Sprintf("s-%d", i)), metav1.CreateOptions{}); err != nil {
					if errs.Add(1) <= 3 {
						fmt.Fprintln(os.Stderr, "perf: create:", err)
					}
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return done.Load(), errs.Load()
}

func cleanup(ctx context.Context, c versioned.Interface, ns string) {
	_ = c.CoreV1beta1().InternalSecrets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
}

func lists(ctx context.Context, c versioned.Interface, ns string) ([]result, error) {
	if n, errs := createN(ctx, c, ns, *listSize, 16); errs > 0 || n != int64(*listSize) {
		return nil, fmt.Errorf("list fixture: %d of %d created", n, *listSize)
	}
	api := c.CoreV1beta1().InternalSecrets(ns)
	var out []result
	for _, rv := range []struct{ label, rv string }{
		{"list 500 (resourceVersion unset: consistent read)", ""},
		{"list 500 (resourceVersion=0: watch cache)", "0"},
	} {
		label := strings.Replace(rv.label, "500", strconv.Itoa(*listSize), 1)
		r := workers(label, 1, *duration, func(_, _ int) error {
			l, err := api.List(ctx, metav1.ListOptions{ResourceVersion: rv.rv})
			if err == nil && len(l.Items) != *listSize {
				err = fmt.Errorf("listed %d items, want %d", len(l.Items), *listSize)
			}
			return err
		})
		out = append(out, r)
	}
	// The same lists with the body read but not decoded: separates the server's time from
	// client-side JSON decoding, which shares the cores with the server here.
	for _, rv := range []struct{ label, rv string }{
		{"list 500 (resourceVersion unset, body not decoded)", ""},
		{"list 500 (resourceVersion=0, body not decoded)", "0"},
	} {
		label := strings.Replace(rv.label, "500", strconv.Itoa(*listSize), 1)
		r := workers(label, 1, *duration, func(_, _ int) error {
			// The media type the decoded rows above received.
			accept := "application/vnd.kubernetes.protobuf"
			if *mediaType != "" {
				accept = *mediaType
			}
			req := c.CoreV1beta1().RESTClient().Get().Namespace(ns).Resource("internalsecrets").SetHeader("Accept", accept)
			if rv.rv != "" {
				req = req.Param("resourceVersion", rv.rv)
			}
			b, err := req.DoRaw(ctx)
			if err == nil && len(b) < *listSize*1024 {
				err = fmt.Errorf("list body of %d bytes is too short", len(b))
			}
			return err
		})
		out = append(out, r)
	}
	cleanup(ctx, c, ns)
	return out, nil
}

// fanout starts the watchers, then writes at a fixed rate; the latency of an event is the
// time from just before the create call to its arrival at a watcher.
func fanout(ctx context.Context, c versioned.Interface, ns string) (result, error) {
	api := c.CoreV1beta1().InternalSecrets(ns)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	lats := make([][]time.Duration, *watchers)
	var wg sync.WaitGroup
	for w := 0; w < *watchers; w++ {
		wi, err := api.Watch(wctx, metav1.ListOptions{})
		if err != nil {
			return result{}, fmt.Errorf("watch: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[w] = eventLatencies(wctx, wi)
		}()
	}
	time.Sleep(500 * time.Millisecond) // let every watch reach the server
	tick := time.NewTicker(time.Second / time.Duration(*watchRate))
	defer tick.Stop()
	deadline := time.Now().Add(*duration)
	start := time.Now()
	var errs int64
	for i := 0; time.Now().Before(deadline); i++ {
		<-tick.C
		s := secret(ns, fmt.Sprintf("w-%d", i))
		s.Annotations = map[string]string{stampAnnotation: strconv.FormatInt(time.Now().UnixNano(), 10)}
		if _, err := api.Create(ctx, s, metav1.CreateOptions{}); err != nil {
			errs++
		}
	}
	time.Sleep(2 * time.Second) // drain
	stop()
	wg.Wait()
	r := result{op: fmt.Sprintf("watch fan-out (%d watchers, %d writes/s; ops = events delivered)", *watchers, *watchRate),
		clients: *watchers, elapsed: time.Since(start) - 2*time.Second, errors: errs}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	cleanup(ctx, c, ns)
	return r, nil
}

// eventLatencies collects, until ctx ends, the delay of every Added event from the time stamped
// into it by the writer.
func eventLatencies(ctx context.Context, wi watch.Interface) []time.Duration {
	defer wi.Stop()
	var lats []time.Duration
	for {
		select {
		case <-ctx.Done():
			return lats
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return lats
			}
			s, ok := ev.Object.(*corev1beta1.InternalSecret)
			if ev.Type != watch.Added || !ok {
				continue
			}
			if sent, err := strconv.ParseInt(s.Annotations[stampAnnotation], 10, 64); err == nil {
				lats = append(lats, time.Since(time.Unix(0, sent)))
			}
		}
	}
}

func createShoot(ctx context.Context, c versioned.Interface, ns, name string) error {
	clientCA, err := pki.NewCA("client-ca-"+name, 24*time.Hour)
	if err != nil {
		return err
	}
	clusterCA, err := pki.NewCA("cluster-ca-"+name, 24*time.Hour)
	if err != nil {
		return err
	}
	key, err := pki.EncodeKey(clientCA.Key)
	if err != nil {
		return err
	}
	secrets := c.CoreV1beta1().InternalSecrets(ns)
	for _, s := range []*corev1beta1.InternalSecret{
		{ObjectMeta: metav1.ObjectMeta{Name: name + ".ca-client", Namespace: ns},
			Data: map[string][]byte{"ca.crt": pki.EncodeCert(clientCA.Cert), "ca.key": key}},
		{ObjectMeta: metav1.ObjectMeta{Name: name + ".ca-cluster", Namespace: ns},
			Data: map[string][]byte{"ca.crt": pki.EncodeCert(clusterCA.Cert)}},
	} {
		if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	shoots := c.CoreV1beta1().Shoots(ns)
	shoot, err := shoots.Create(ctx, &corev1beta1.Shoot{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1beta1.ShootSpec{Kubernetes: corev1beta1.Kubernetes{Version: "1.31.2"}},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	shoot.Status.AdvertisedAddresses = []corev1beta1.ShootAdvertisedAddress{{Name: "external", URL: "https://api.perf.example.com"}}
	_, err = shoots.UpdateStatus(ctx, shoot, metav1.UpdateOptions{})
	return err
}

func issue(ctx context.Context, c versioned.Interface, ns, name string, n int) result {
	shoots := c.CoreV1beta1().Shoots(ns)
	label := "adminkubeconfig issuance"
	if *keyLabel != "" {
		label += " (" + *keyLabel + ")"
	}
	return workers(label, n, *duration, func(_, _ int) error {
		res, err := shoots.CreateAdminKubeconfigRequest(ctx, name, &authv1alpha1.AdminKubeconfigRequest{}, metav1.CreateOptions{})
		if err == nil && len(res.Status.Kubeconfig) == 0 {
			err = errors.New("empty kubeconfig")
		}
		return err
	})
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

func printTable(rs []result) {
	if !*noHeader {
		fmt.Println("| operation | clients | ops | ops/s | p50 ms | p99 ms | errors |")
		fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	}
	for _, r := range rs {
		slices.Sort(r.lat)
		rate := 0.0
		if r.elapsed > 0 {
			rate = float64(len(r.lat)) / r.elapsed.Seconds()
		}
		fmt.Printf("| %s | %d | %d | %.0f | %s | %s | %d |\n", r.op, r.clients, len(r.lat), rate,
			ms(pct(r.lat, 0.50)), ms(pct(r.lat, 0.99)), r.errors)
	}
}
