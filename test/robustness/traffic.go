package robustness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
)

// Traffic runs clients that send random requests to the partitions and record them.
type Traffic struct {
	History    *History
	Partitions []string // resource/namespace
	Keys       int      // names per partition
	Pause      time.Duration

	seq    atomic.Int64
	mu     sync.Mutex
	errors map[string]int // failed requests by class
	sample map[string]string
	stale  []staleRead
	pages  int // lists that took more than one page
}

// staleRead is a read that allowed a cached answer (resourceVersion "0" or "not older than"),
// checked outside the linearizability model.
type staleRead struct {
	Partition string
	MinRV     int64
	ListRV    int64
	Items     []Item
}

// Client is one sequential client on one replica and wire format.
type Client struct {
	ID    int
	Name  string
	cs    versioned.Interface
	known map[string]Item // last object seen per partition/name
}

// NewTrafficClient wraps a clientset for the traffic.
func NewTrafficClient(id int, name string, cs versioned.Interface) *Client {
	return &Client{ID: id, Name: name, cs: cs, known: map[string]Item{}}
}

func (c *Client) res(name string) resource { return resourceOf(c.cs, name) }

// Run sends requests until ctx is done.
func (t *Traffic) Run(ctx context.Context, c *Client) {
	rng := rand.New(rand.NewPCG(uint64(c.ID), uint64(time.Now().UnixNano())))
	for ctx.Err() == nil {
		p := t.Partitions[rng.IntN(len(t.Partitions))]
		key := fmt.Sprintf("obj-%d", rng.IntN(t.Keys))
		t.step(c, p, key, rng)
		if t.Pause > 0 {
			time.Sleep(t.Pause) // pacing the load, not waiting for a condition
		}
	}
}

func (t *Traffic) step(c *Client, p, key string, rng *rand.Rand) {
	resource, _, _ := strings.Cut(p, "/")
	switch n := rng.IntN(100); {
	case n < 15:
		t.create(c, p, key)
	case n < 35:
		t.update(c, p, key, false)
	case n < 45:
		t.update(c, p, key, resource == Shoots)
	case n < 53:
		t.delete(c, p, key)
	case n < 75:
		t.get(c, p, key)
	case n < 90:
		t.list(c, p, int64(rng.IntN(4)))
	default:
		t.staleList(c, p, rng.IntN(2) == 0)
	}
}

func (t *Traffic) value(c *Client) string { return fmt.Sprintf("c%d-%d", c.ID, t.seq.Add(1)) }

func split(p string) (resource, ns string) {
	resource, ns, _ = strings.Cut(p, "/")
	return resource, ns
}

func (t *Traffic) create(c *Client, p, key string) {
	resource, ns := split(p)
	in := Input{Partition: p, Kind: OpCreate, Key: key, Main: t.value(c)}
	call := t.History.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, err := c.res(resource).create(ctx, ns, key, in.Main)
	t.History.Record(c.ID, in, call, t.output(c, p, obj, err))
}

// update writes on the last version the client saw, which may be stale: a conflict is an
// expected answer.
func (t *Traffic) update(c *Client, p, key string, status bool) {
	base, ok := c.known[p+"/"+key]
	if !ok {
		t.get(c, p, key)
		return
	}
	resource, ns := split(p)
	in := Input{Partition: p, Kind: OpUpdate, Key: key, Precond: base.RV}
	if status {
		v := fmt.Sprint(t.seq.Add(1))
		in.Kind, in.Status, base.Status = OpUpdateStatus, v, v
	} else {
		in.Main = t.value(c)
		base.Main = in.Main
	}
	call := t.History.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, err := c.res(resource).update(ctx, ns, base, status)
	if err != nil {
		delete(c.known, p+"/"+key) // read it again before the next update
	}
	t.History.Record(c.ID, in, call, t.output(c, p, obj, err))
}

func (t *Traffic) delete(c *Client, p, key string) {
	resource, ns := split(p)
	in := Input{Partition: p, Kind: OpDelete, Key: key}
	call := t.History.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.res(resource).delete(ctx, ns, key)
	delete(c.known, p+"/"+key)
	t.History.Record(c.ID, in, call, t.output(c, p, nil, err))
}

func (t *Traffic) get(c *Client, p, key string) {
	resource, ns := split(p)
	in := Input{Partition: p, Kind: OpGet, Key: key}
	call := t.History.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, err := c.res(resource).get(ctx, ns, key, "")
	t.History.Record(c.ID, in, call, t.output(c, p, obj, err))
}

// list reads every page (limit 0 is one page); the pages are one snapshot.
func (t *Traffic) list(c *Client, p string, limit int64) {
	in := Input{Partition: p, Kind: OpList}
	call := t.History.Now()
	out := t.readAll(c, p, metav1.ListOptions{Limit: limit})
	t.History.Record(c.ID, in, call, out)
}

// ListOnce is a recorded list for the watchers: its resourceVersion starts a watch.
func (t *Traffic) ListOnce(c *Client, p string) (Output, error) {
	in := Input{Partition: p, Kind: OpList}
	call := t.History.Now()
	out := t.readAll(c, p, metav1.ListOptions{})
	t.History.Record(c.ID, in, call, out)
	if out.Result != ResultOK {
		return out, errors.New("list failed")
	}
	return out, nil
}

func (t *Traffic) readAll(c *Client, p string, opts metav1.ListOptions) Output {
	resource, ns := split(p)
	out := Output{Result: ResultOK}
	for page := 0; ; page++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		obj, err := c.res(resource).list(ctx, ns, opts)
		cancel()
		if err != nil {
			t.countError(err)
			return Output{Result: ResultUnknown}
		}
		rv, cont, items := itemsOf(obj)
		if page == 0 {
			out.ListRV = rv
		} else if rv != out.ListRV {
			t.countError(fmt.Errorf("page %d of a list at %d has resourceVersion %d", page, out.ListRV, rv))
			return Output{Result: ResultUnknown}
		}
		out.Items = append(out.Items, items...)
		if cont == "" {
			if page > 0 {
				t.mu.Lock()
				t.pages++
				t.mu.Unlock()
			}
			for _, it := range out.Items {
				c.known[p+"/"+it.Key] = it
			}
			return out
		}
		opts.Continue = cont
	}
}

// staleList reads with resourceVersion "0" (any state) or "not older than" the newest
// resourceVersion the client saw.
func (t *Traffic) staleList(c *Client, p string, notOlder bool) {
	opts := metav1.ListOptions{ResourceVersion: "0"}
	var minRV int64
	if notOlder {
		for k, it := range c.known {
			if strings.HasPrefix(k, p+"/") {
				minRV = max(minRV, it.RV)
			}
		}
		if minRV > 0 {
			opts = metav1.ListOptions{ResourceVersion: rvString(minRV), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}
		}
	}
	resource, ns := split(p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, err := c.res(resource).list(ctx, ns, opts)
	if err != nil {
		t.countError(err)
		return
	}
	rv, _, items := itemsOf(obj)
	t.mu.Lock()
	t.stale = append(t.stale, staleRead{Partition: p, MinRV: minRV, ListRV: rv, Items: items})
	t.mu.Unlock()
}

// output turns an answer into the model's terms.
func (t *Traffic) output(c *Client, p string, obj runtime.Object, err error) Output {
	switch {
	case err == nil:
		out := Output{Result: ResultOK}
		if obj != nil {
			out.Item, _ = itemOf(obj)
			c.known[p+"/"+out.Key] = out.Item
			out.Key = ""
		}
		return out
	case apierrors.IsAlreadyExists(err):
		return Output{Result: ResultExists}
	case apierrors.IsConflict(err):
		return Output{Result: ResultConflict}
	case apierrors.IsNotFound(err):
		return Output{Result: ResultNotFound}
	}
	t.countError(err)
	return Output{Result: ResultUnknown}
}

func (t *Traffic) countError(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.errors == nil {
		t.errors, t.sample = map[string]int{}, map[string]string{}
	}
	class := errClass(err)
	t.errors[class]++
	if _, ok := t.sample[class]; !ok {
		t.sample[class] = err.Error()
	}
}

func errClass(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		class := fmt.Sprintf("%d %s", st.Status().Code, st.Status().Reason)
		if strings.Contains(st.Status().Message, "nothing was written") {
			class += " (encryption provider unavailable)"
		}
		return class
	}
	msg := err.Error()
	for _, known := range []string{"connection refused", "connection reset", "unexpected EOF", "EOF", "context deadline exceeded", "stream error", "resourceVersion"} {
		if strings.Contains(msg, known) {
			return "transport: " + known
		}
	}
	return "other: " + msg
}

// Errors are the failed requests by class, and one message of each class.
func (t *Traffic) Errors() (map[string]int, map[string]string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.errors), maps.Clone(t.sample)
}

func (t *Traffic) requests() int { return t.History.Len() }

// StaleReads are the reads that allowed a cached answer.
func (t *Traffic) StaleReads() []staleRead {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]staleRead(nil), t.stale...)
}

// Pages is the number of lists that took more than one page.
func (t *Traffic) Pages() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pages
}

func (t *Traffic) addStaleRead(r staleRead) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stale = append(t.stale, r)
}
