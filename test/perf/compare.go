package main

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// target is one kind of object on one server; every target is driven by the same dynamic
// client code, so client-side costs are equal.
type target struct {
	label      string
	gvr        schema.GroupVersionResource
	apiVersion string
	kind       string
	ns         string
	dyn        dynamic.Interface
	http       *http.Client
	host       string
	kubeconfig string
	servers    []*proc // whose CPU time a request of this target costs

	// create and get one object in ns; the dynamic client (JSON) unless a typed protobuf
	// client replaces them (compare_proto.go).
	create, get func(ctx context.Context, name string) error
	list        func(ctx context.Context) (int, error) // the list fixture from the watch cache, decoded
	accept      string                                 // of the list requests
	listNS      string                                 // namespace of the list fixture
	proto       bool                                   // shares its list fixture with the JSON target of the same objects
}

var (
	gvrNamespace  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrService    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrSecret     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	gvrCRD        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	gvrAPIService = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
	gvrInternal   = schema.GroupVersionResource{Group: "core.gardener.cloud", Version: "v1beta1", Resource: "internalsecrets"}
	gvrBench      = schema.GroupVersionResource{Group: "bench.example.com", Version: "v1", Resource: "benchsecrets"}
)

// benchCRD has the shape of an InternalSecret: data (map of byte strings), type, immutable.
const benchCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"benchsecrets.bench.example.com"},
"spec":{"group":"bench.example.com","scope":"Namespaced",
 "names":{"plural":"benchsecrets","singular":"benchsecret","kind":"BenchSecret","listKind":"BenchSecretList"},
 "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
  "data":{"type":"object","additionalProperties":{"type":"string","format":"byte"}},
  "type":{"type":"string"},
  "immutable":{"type":"boolean"}}}}}]}}`

type compareOut struct {
	rows     []row
	memRows  []memRow
	verdicts []string
}

type row struct {
	target string
	result
	cpu time.Duration // of the target's servers during the row
}

func (t *target) object(name string) *unstructured.Unstructured {
	b := make([]byte, 1024)
	_, _ = rand.Read(b)
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": t.apiVersion, "kind": t.kind,
		"metadata": map[string]interface{}{"name": name, "namespace": t.ns},
		"data":     map[string]interface{}{"data": base64.StdEncoding.EncodeToString(b)},
	}}
}

func (t *target) listURL(ns string) string {
	if t.gvr.Group == "" {
		return fmt.Sprintf("%s/api/v1/namespaces/%s/%s", t.host, ns, t.gvr.Resource)
	}
	return fmt.Sprintf("%s/apis/%s/%s/namespaces/%s/%s", t.host, t.gvr.Group, t.gvr.Version, ns, t.gvr.Resource)
}

func newTarget(label, kubeconfigPath string, gvr schema.GroupVersionResource, kind, ns string) (*target, error) {
	cfg, err := restConfig(kubeconfigPath)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	t := &target{label: label, gvr: gvr, apiVersion: gvr.GroupVersion().String(), kind: kind, ns: ns,
		dyn: dyn, http: hc, host: cfg.Host, kubeconfig: kubeconfigPath, accept: "application/json", listNS: ns + "-list"}
	t.create = func(ctx context.Context, name string) error {
		_, err := dyn.Resource(gvr).Namespace(t.ns).Create(ctx, t.object(name), metav1.CreateOptions{})
		return err
	}
	t.get = func(ctx context.Context, name string) error {
		_, err := dyn.Resource(gvr).Namespace(t.ns).Get(ctx, name, metav1.GetOptions{})
		return err
	}
	t.list = func(ctx context.Context) (int, error) {
		l, err := dyn.Resource(gvr).Namespace(t.listNS).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	}
	return t, nil
}

func createJSON(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, js string) error {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(js)); err != nil {
		return err
	}
	_, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
	return err
}

// runCompare builds the environment, runs every scenario against every target, then the
// memory and cold-start measurement, and prints Markdown.
func runCompare(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "garden-bench-")
	if err != nil {
		return err
	}
	e := &env{dir: dir, procs: &procs.Group{Dir: dir}}
	defer e.cleanUpOnExit()()
	if err := e.startCluster(ctx); err != nil {
		return e.fail(err)
	}
	garden, targets, err := e.startTargets(ctx)
	if err != nil {
		return e.fail(err)
	}
	out, err := measure(ctx, targets)
	if err != nil {
		return e.fail(err)
	}
	garden.Stop()
	if *memObjects != "" {
		step("memory and cold start")
		if err := e.memory(ctx, out); err != nil {
			return e.fail(err)
		}
	}
	out.print()
	if *verdictFile != "" {
		return os.WriteFile(*verdictFile, []byte(strings.Join(out.verdicts, "\n")+"\n"), 0o644)
	}
	return nil
}

// cleanUpOnExit stops the servers and removes the work directory (unless -keep), also on
// SIGINT/SIGTERM, where deferred calls would not run. Call it deferred.
func (e *env) cleanUpOnExit() func() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		e.teardown()
		_ = os.RemoveAll(e.dir)
		os.Exit(1)
	}()
	return func() {
		e.teardown()
		if *keepDir {
			fmt.Fprintln(os.Stderr, "perf: logs kept in", e.dir)
		} else {
			_ = os.RemoveAll(e.dir)
		}
	}
}

// fail prints the tails of the servers' logs and returns err.
func (e *env) fail(err error) error {
	for _, n := range []string{"etcd", "kube-apiserver", "garden", "garden-mem"} {
		if _, serr := os.Stat(e.path(n + ".log")); serr == nil {
			fmt.Fprintf(os.Stderr, "----- %s.log -----\n%s\n", n, procs.Tail(e.path(n+".log"), 20))
		}
	}
	return err
}

func step(s string) { fmt.Fprintf(os.Stderr, "perf: %s %s\n", time.Now().UTC().Format("15:04:05"), s) }

// startCluster starts etcd and kube-apiserver and creates the namespaces and the CRD.
func (e *env) startCluster(ctx context.Context) error {
	step("certificates, etcd, kube-apiserver")
	if err := e.certificates(); err != nil {
		return err
	}
	if err := e.startEtcd(filepath.Join(*toolsDir, "etcd")); err != nil {
		return err
	}
	if err := e.startKubeAPIServer(filepath.Join(*toolsDir, "kube-apiserver")); err != nil {
		return err
	}
	admin, err := newTarget("admin", e.path("admin.kubeconfig"), gvrSecret, "Secret", "")
	if err != nil {
		return err
	}
	nss := []string{"bench-ours", "bench-agg", "bench-secrets", "bench-crd", "bench-mem", "bench-mem-json", "bench-ours-pb", "bench-secrets-pb"}
	for _, ns := range nss {
		for _, suffix := range []string{"", "-list"} {
			js := fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}`, ns+suffix)
			if err := createJSON(ctx, admin.dyn, gvrNamespace, "", js); err != nil {
				return fmt.Errorf("namespace: %w", err)
			}
		}
	}
	if err := createJSON(ctx, admin.dyn, gvrCRD, "", benchCRD); err != nil {
		return fmt.Errorf("CRD: %w", err)
	}
	return nil
}

// startTargets starts our server in delegated mode behind its APIService and returns the
// targets measured side by side, each warmed up with one create.
func (e *env) startTargets(ctx context.Context) (*proc, []*target, error) {
	step("garden-apiserver (delegated mode) and its APIService")
	garden, gardenURL, err := e.startGarden(*serverBin, "garden", "/registry-gardener")
	if err != nil {
		return nil, nil, err
	}
	admin, err := newTarget("admin", e.path("admin.kubeconfig"), gvrSecret, "Secret", "")
	if err != nil {
		return nil, nil, err
	}
	if err := e.routeAPIService(ctx, admin.dyn, gardenURL); err != nil {
		return nil, nil, err
	}
	targets := []*target{}
	for _, t := range []struct {
		label, kc string
		gvr       schema.GroupVersionResource
		kind, ns  string
		servers   []*proc
	}{
		{"InternalSecret, direct", e.path("garden.kubeconfig"), gvrInternal, "InternalSecret", "bench-ours", []*proc{garden}},
		{"core/v1 Secret, kube-apiserver", e.path("admin.kubeconfig"), gvrSecret, "Secret", "bench-secrets", []*proc{e.kas}},
		{"CRD object, kube-apiserver", e.path("admin.kubeconfig"), gvrBench, "BenchSecret", "bench-crd", []*proc{e.kas}},
		{"InternalSecret, via aggregator", e.path("admin.kubeconfig"), gvrInternal, "InternalSecret", "bench-agg", []*proc{e.kas, garden}},
	} {
		tg, err := newTarget(t.label, t.kc, t.gvr, t.kind, t.ns)
		if err != nil {
			return nil, nil, err
		}
		tg.servers = t.servers
		targets = append(targets, tg)
	}
	if err := typedLists(targets); err != nil {
		return nil, nil, err
	}
	pb, err := protoTargets(e, targets[0], targets[1])
	if err != nil {
		return nil, nil, err
	}
	targets = append(targets, pb...)
	return garden, targets, warmUp(ctx, targets)
}

// warmUp creates one object per target: the CRD's and the APIService's handlers appear a little
// after creation.
func warmUp(ctx context.Context, targets []*target) error {
	for _, tg := range targets {
		if err := poll(ctx, 60*time.Second, "first create of "+tg.label, func() (bool, error) {
			err := tg.create(ctx, "warmup")
			return err == nil, err
		}); err != nil {
			return err
		}
	}
	return nil
}

// measure runs the create/get rows at each concurrency and the list rows, with their verdicts.
func measure(ctx context.Context, targets []*target) (*compareOut, error) {
	out := &compareOut{}
	conc, err := parseInts(*clients)
	if err != nil {
		return nil, err
	}
	for _, n := range conc {
		step(fmt.Sprintf("create/get, %d clients", n))
		out.rows = append(out.rows, crudRows(ctx, targets, n)...)
	}
	step("lists")
	lrows, err := listRows(ctx, targets)
	if err != nil {
		return nil, err
	}
	out.rows = append(out.rows, lrows...)
	out.compareVerdicts(conc)
	out.protoVerdicts(conc)
	return out, nil
}

// routeAPIService points v1beta1.core.gardener.cloud at our server through an ExternalName
// Service to localhost (there is no kube-proxy here) with the real CA bundle.
func (e *env) routeAPIService(ctx context.Context, dyn dynamic.Interface, gardenURL string) error {
	svc := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q,"namespace":%q},"spec":{"type":"ExternalName","externalName":"localhost"}}`,
		gardenSvcName, gardenSvcNS)
	if err := createJSON(ctx, dyn, gvrService, gardenSvcNS, svc); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	ca, err := os.ReadFile(e.servingC)
	if err != nil {
		return err
	}
	var port int
	if _, err := fmt.Sscanf(gardenURL, "https://127.0.0.1:%d", &port); err != nil {
		return err
	}
	api := fmt.Sprintf(`{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.core.gardener.cloud"},
"spec":{"group":"core.gardener.cloud","version":"v1beta1","groupPriorityMinimum":1000,"versionPriority":15,
"service":{"name":%q,"namespace":%q,"port":%d},"caBundle":%q}}`,
		gardenSvcName, gardenSvcNS, port, base64.StdEncoding.EncodeToString(ca))
	if err := createJSON(ctx, dyn, gvrAPIService, "", api); err != nil {
		return fmt.Errorf("APIService: %w", err)
	}
	return poll(ctx, 60*time.Second, "APIService Available", func() (bool, error) {
		u, err := dyn.Resource(gvrAPIService).Get(ctx, "v1beta1.core.gardener.cloud", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]interface{})
			if m["type"] == "Available" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, fmt.Errorf("conditions %v", conds)
	})
}

// profile records a CPU profile of t's server (kube-apiserver for the aggregated target) for d
// into -pprof-dir, in the background.
func (t *target) profile(ctx context.Context, name string, d time.Duration) func() {
	if *pprofDir == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		secs := max(1, int(d.Seconds())-1)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", t.host, secs), nil)
		resp, err := t.http.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, "perf: pprof:", err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(filepath.Join(*pprofDir, name+".pprof"))
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, resp.Body)
	}()
	return func() { <-done }
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

// inTurns measures one operation on every target: -rounds slices of -compare-duration/-rounds
// each, the order of the targets rotated every round, so that bursts of background load spread
// over all targets alike. The slices of a target are merged into one row.
func inTurns(ctx context.Context, targets []*target, op string, n int, fn func(i int, t *target) func(w, k int) error) []row {
	rows := make([]row, len(targets))
	slice := *compareDuration / time.Duration(*rounds)
	for round := 0; round < *rounds; round++ {
		for j := range targets {
			i := (j + round) % len(targets)
			t := targets[i]
			wait := func() {}
			if round == 0 {
				wait = t.profile(ctx, fmt.Sprintf("%s-%d-%s", slug(op), n, slug(t.label)), slice)
			}
			cpu0 := cpuTime(t.servers...)
			r := workers(op, n, slice, fn(i, t))
			rows[i].cpu += cpuTime(t.servers...) - cpu0
			wait()
			rows[i].target, rows[i].op, rows[i].clients = t.label, op, n
			rows[i].lat = append(rows[i].lat, r.lat...)
			rows[i].elapsed += r.elapsed
			rows[i].errors += r.errors
		}
	}
	return rows
}

// crudRows runs create then get for every target at n clients.
func crudRows(ctx context.Context, targets []*target, n int) []row {
	owned := make([][][]string, len(targets))
	var seq atomic.Int64
	for i := range owned {
		owned[i] = make([][]string, n)
	}
	rows := inTurns(ctx, targets, "create", n, func(i int, t *target) func(w, k int) error {
		return func(w, k int) error {
			name := fmt.Sprintf("c%d-%d", n, seq.Add(1))
			err := t.create(ctx, name)
			if err == nil {
				owned[i][w] = append(owned[i][w], name)
			}
			return err
		}
	})
	return append(rows, inTurns(ctx, targets, "get", n, func(i int, t *target) func(w, k int) error {
		return func(w, k int) error {
			if len(owned[i][w]) == 0 {
				return errDone
			}
			return t.get(ctx, owned[i][w][k%len(owned[i][w])])
		}
	})...)
}

// listRows lists -list-size objects with one client, the body read (and gunzipped) but not
// decoded: the client shares the cores with the servers; decoding is measured in the standalone
// section.
func listRows(ctx context.Context, targets []*target) ([]row, error) {
	if err := listFixtures(ctx, targets); err != nil {
		return nil, err
	}
	var rows []row
	// gzip is what client-go asks for by default; servers compress responses over 128 KiB.
	for _, rv := range []struct{ label, rv, encoding string }{
		{"list %d (resourceVersion unset)", "", "gzip"},
		{"list %d (resourceVersion=0)", "0", "gzip"},
		{"list %d (resourceVersion unset, no gzip)", "", "identity"},
		{"list %d (resourceVersion=0, no gzip)", "0", "identity"},
	} {
		label := fmt.Sprintf(rv.label, *listSize)
		rows = append(rows, inTurns(ctx, targets, label, 1, func(_ int, t *target) func(w, k int) error {
			url := t.listURL(t.listNS) + "?resourceVersion=" + rv.rv
			if rv.rv == "" {
				url = t.listURL(t.listNS)
			}
			return func(_, _ int) error { return rawList(ctx, t, url, rv.encoding) }
		})...)
	}
	// As a client sees it: client-go's defaults (gzip), the body decoded.
	label := fmt.Sprintf("list %d (resourceVersion=0, decoded)", *listSize)
	return append(rows, inTurns(ctx, targets, label, 1, func(_ int, t *target) func(w, k int) error {
		return func(_, _ int) error {
			n, err := t.list(ctx)
			if err == nil && n != *listSize {
				err = fmt.Errorf("listed %d items, want %d", n, *listSize)
			}
			return err
		}
	})...), nil
}

// listFixtures creates the listed objects of every JSON target (a protobuf target lists the
// fixture of the JSON target of the same objects).
func listFixtures(ctx context.Context, targets []*target) error {
	for _, t := range targets {
		if t.proto {
			continue
		}
		lt := *t
		lt.ns = t.listNS
		api := t.dyn.Resource(t.gvr).Namespace(lt.ns)
		r := workers("fixture", 16, time.Minute, func(w, k int) error {
			i := k*16 + w
			if i >= *listSize {
				return errDone
			}
			_, err := api.Create(ctx, lt.object(fmt.Sprintf("l-%d", i)), metav1.CreateOptions{})
			return err
		})
		if r.errors > 0 || len(r.lat) != *listSize {
			return fmt.Errorf("list fixture of %s: %d of %d created", t.label, len(r.lat), *listSize)
		}
	}
	return nil
}

// rawList reads one list response without decoding it, with the given Accept-Encoding.
func rawList(ctx context.Context, t *target, url, encoding string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", t.accept)
	// An explicit Accept-Encoding also turns off the transport's transparent gunzip,
	// so decompress here as client-go would.
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := t.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return err
		}
		body = zr
	}
	nb, err := io.Copy(io.Discard, body)
	if err == nil && (resp.StatusCode != http.StatusOK || nb < int64(*listSize)*1024) {
		err = fmt.Errorf("list: %s, %d bytes", resp.Status, nb)
	}
	if ct := resp.Header.Get("Content-Type"); err == nil && !strings.HasPrefix(ct, t.accept) {
		err = fmt.Errorf("list: asked for %s, got %s", t.accept, ct)
	}
	return err
}
