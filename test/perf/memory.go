package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/test/fixture"
)

// Each storage format gets a prefix of its own, so the counts are exact and the comparison's
// objects are not included.
type memFormat struct {
	label, mediaType, prefix, ns string

	// Filled in by prepare: the template the server stored, and how it is encoded.
	tmpl        corev1beta1.InternalSecret
	codec       storedCodec
	keyPrefix   string
	storedBytes int
	stored      int
}

func memFormats() []*memFormat {
	return []*memFormat{
		{label: "protobuf", mediaType: "application/vnd.kubernetes.protobuf", prefix: "/registry-bench-mem", ns: "bench-mem"},
		{label: "JSON", mediaType: "application/json", prefix: "/registry-bench-mem-json", ns: "bench-mem-json"},
	}
}

type memRow struct {
	format      string
	storedBytes int // of one 1 KiB InternalSecret, read raw from etcd
	objects     int64
	load        time.Duration
	readyz      time.Duration
	cacheReady  time.Duration
	cacheInit   time.Duration // as the server measured it
	rssKiB      int64
	heapBytes   int64
}

// memory stores growing numbers of 1 KiB InternalSecrets and measures, for each, a cold start of
// our server (process start to /readyz, and to the watch cache initialized) and its RSS once
// ready, once with each storage format, the formats in turn at every count. The objects are
// written straight into etcd while the server is stopped: the clones are byte for byte what the
// server stores (checked on a template it wrote itself).
func (e *env) memory(ctx context.Context, out *compareOut) error {
	counts, err := parseInts(*memObjects)
	if err != nil {
		return err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.etcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	formats := memFormats()
	for _, f := range formats {
		if err := e.prepare(ctx, cli, f); err != nil {
			return fmt.Errorf("%s storage: %w", f.label, err)
		}
	}
	for _, n := range counts {
		for _, f := range formats {
			start := time.Now()
			if err := putClones(ctx, cli, f.keyPrefix, f.codec, &f.tmpl, f.stored, n); err != nil {
				return err
			}
			r := memRow{format: f.label, storedBytes: f.storedBytes, load: time.Since(start)}
			f.stored = max(f.stored, n)
			cnt, err := cli.Get(ctx, f.keyPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				return err
			}
			r.objects = cnt.Count
			if err := e.coldStart(ctx, f, &r); err != nil {
				return err
			}
			out.memRows = append(out.memRows, r)
		}
	}
	return nil
}

func (f *memFormat) args() []string { return []string{"--storage-media-type=" + f.mediaType} }

// prepare has the server create one InternalSecret through the API with f's storage format,
// stops it, and reads the stored value back from etcd as the template of the clones.
func (e *env) prepare(ctx context.Context, cli *clientv3.Client, f *memFormat) error {
	p, _, err := e.startGarden(*serverBin, "garden-mem", f.prefix, f.args()...)
	if err != nil {
		return err
	}
	t, err := newTarget("mem", e.path("garden-mem.kubeconfig"), gvrInternal, "InternalSecret", f.ns)
	if err != nil {
		return err
	}
	if err := t.create(ctx, "tmpl"); err != nil {
		return err
	}
	p.Stop()
	resp, err := cli.Get(ctx, f.prefix+"/", clientv3.WithPrefix())
	if err != nil {
		return err
	}
	for _, kv := range resp.Kvs {
		if !strings.HasSuffix(string(kv.Key), "/"+f.ns+"/tmpl") {
			continue
		}
		f.keyPrefix = strings.TrimSuffix(string(kv.Key), "tmpl")
		f.codec = storedCodecFor(kv.Value)
		if f.codec.protobuf != (f.mediaType != "application/json") {
			return fmt.Errorf("stored value is not %s", f.mediaType)
		}
		if err := f.codec.decode(kv.Value, &f.tmpl); err != nil {
			return fmt.Errorf("stored template is not plain protobuf or JSON (encrypted?): %w", err)
		}
		if again, err := f.codec.encode(&f.tmpl); err != nil || !bytes.Equal(again, kv.Value) {
			return fmt.Errorf("re-encoding the stored template does not give the stored bytes (%s)", fmt.Sprint(err))
		}
		f.storedBytes, f.stored = len(kv.Value), 1
		return nil
	}
	return fmt.Errorf("template not found under %s", f.prefix)
}

// putClones writes clones m-from..m-(to-1) of tmpl (new name, uid and random data) in
// transactions of 100 from 4 goroutines.
func putClones(ctx context.Context, cli *clientv3.Client, keyPrefix string, codec storedCodec, tmpl *corev1beta1.InternalSecret, from, to int) error {
	const batch, par = 100, 4
	next := make(chan int)
	errs := make(chan error, par)
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range next {
				var ops []clientv3.Op
				for i := first; i < min(first+batch, to); i++ {
					s := tmpl.DeepCopy()
					s.Name = fmt.Sprintf("m-%d", i)
					s.UID = types.UID(uuid.NewUUID())
					b := make([]byte, 1024)
					_, _ = rand.Read(b)
					s.Data = map[string][]byte{"data": b}
					v, err := codec.encode(s)
					if err != nil {
						errs <- err
						return
					}
					ops = append(ops, clientv3.OpPut(keyPrefix+s.Name, string(v)))
				}
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := from; i < to; i += batch {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err = <-errs:
	default:
	}
	return err
}

// coldStart starts the server on the stored objects and fills in the timings and memory.
func (e *env) coldStart(ctx context.Context, f *memFormat, r *memRow) error {
	p, _, err := e.startGarden(*serverBin, "garden-mem", f.prefix, f.args()...)
	if err != nil {
		return err
	}
	defer p.Stop()
	r.readyz = time.Since(p.Started) // startGarden returns as soon as /readyz answers 200 (50 ms polls)
	// A new port on every start: a new client.
	t, err := newTarget("mem", e.path("garden-mem.kubeconfig"), gvrInternal, "InternalSecret", f.ns)
	if err != nil {
		return err
	}
	// The watch cache counts its completed initializations (a list with resourceVersion=0 is no
	// signal: before the cache is ready it goes to etcd).
	if err := poll(ctx, 5*time.Minute, "watch cache initialized", func() (bool, error) {
		return metric(t, "apiserver_watch_cache_initializations_total", `group="core.gardener.cloud"`, `resource="internalsecrets"`) >= 1, nil
	}); err != nil {
		return err
	}
	r.cacheReady = time.Since(p.Started)
	time.Sleep(5 * time.Second) // let the start-up garbage be collected
	r.rssKiB = procStatusKiB(p.Cmd.Process.Pid, "VmRSS:")
	r.heapBytes = int64(metric(t, "go_memstats_heap_inuse_bytes"))
	r.cacheInit = time.Duration(metric(t, "apiserver_watch_cache_initialization_duration_seconds_sum", `group="core.gardener.cloud"`, `resource="internalsecrets"`) * float64(time.Second))
	return nil
}

func procStatusKiB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fs := strings.Fields(s.Text()); len(fs) >= 2 && fs[0] == field {
			v, _ := strconv.ParseInt(fs[1], 10, 64)
			return v
		}
	}
	return 0
}

// metric sums the samples of name whose labels match the filters (`label="value"`) on the
// server's /metrics; 0 when it cannot be read.
func metric(t *target, name string, filters ...string) float64 {
	resp, err := t.http.Get(t.host + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0
	}
	v, _ := fixture.SumMetric(string(body), name, filters...)
	return v
}
