package encryption

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

// migrator finds the stored objects that do not match the configuration in effect and writes
// them again through their store.
type migrator struct {
	opts      Options
	limiter   *rate.Limiter
	etcd      *etcdClient
	reporter  *reporter
	resources []*resource
	// witnesses are a value of each resource the last scan found current.
	witnesses map[*resource]*storedValue
}

func newMigrator(opts Options, etcd *etcdClient, reporter *reporter) *migrator {
	limit := rate.Inf
	if opts.Rate > 0 {
		limit = rate.Limit(opts.Rate)
	}
	return &migrator{opts: opts, limiter: rate.NewLimiter(limit, 1), etcd: etcd, reporter: reporter}
}

// needsRewrite decides whether a stored value must be written again: it was read through a
// provider or key other than the write key, or the storage codec would write it in another form
// (another media type, or the earlier protobuf field numbers). err: it cannot be read at all.
// It also returns the media type the object is serialized in.
func (m *migrator) needsRewrite(ctx context.Context, r *resource, kv *mvccpb.KeyValue) (storedAs string, rewrite bool, err error) {
	out, stale, err := r.t.TransformFromStorage(ctx, kv.Value, value.DefaultContext(kv.Key))
	if err != nil {
		return "", false, err
	}
	return storagecodec.StoredMediaType(out), stale || r.codec.Stale(out), nil
}

// writePrefixes names what values of each resource written under g start with, as far as a
// store's write or a scan has shown ("" until then).
func (m *migrator) writePrefixes(g *generation) map[string]string {
	out := map[string]string{}
	for _, r := range m.resources {
		prefix := lastWritePrefix(r, g)
		if w := m.witnesses[r]; prefix == "" && w != nil && w.gen == g {
			prefix = StoredPrefix(w.data)
		}
		out[r.gr.String()] = prefix
	}
	return out
}

// lastWritePrefix names what the store's last write under g started with, "" if it wrote
// nothing under g yet.
func lastWritePrefix(r *resource, g *generation) string {
	if w := r.t.lastWrite.Load(); w != nil && w.gen == g {
		return StoredPrefix(w.data)
	}
	return ""
}

// countAll classifies every stored object under g, the configuration in effect; ok is false
// when etcd could not be scanned.
func (m *migrator) countAll(ctx context.Context, g *generation) (stale, unreadable int, ok bool) {
	m.witnesses = map[*resource]*storedValue{}
	for _, r := range m.resources {
		s, u, err := m.count(ctx, r, g)
		if err != nil {
			m.reporter.setLastError(r, fmt.Errorf("scanning etcd: %w", err))
			return 0, 0, false
		}
		stale, unreadable = stale+s, unreadable+u
	}
	m.reporter.setScanCompleted()
	return stale, unreadable, true
}

// count classifies every stored object of r the way the store does on read, and keeps the
// first value it finds current as a witness.
func (m *migrator) count(ctx context.Context, r *resource, g *generation) (stale, unreadable int, err error) {
	scan := resourceScan{StoredWith: map[string]int{}, StoredAs: map[string]int{}}
	err = m.scanPages(ctx, r, func(kvs []*mvccpb.KeyValue) error {
		for _, kv := range kvs {
			scan.Objects++
			scan.StoredWith[StoredPrefix(kv.Value)]++
			storedAs, rewrite, err := m.needsRewrite(ctx, r, kv)
			switch {
			case err != nil:
				scan.Unreadable++
				scan.LastError = err
				continue
			case rewrite:
				scan.Stale++
			case m.witnesses[r] == nil:
				m.witnesses[r] = &storedValue{data: bytes.Clone(kv.Value), ctx: value.DefaultContext(bytes.Clone(kv.Key)), gen: g}
			}
			scan.StoredAs[storedAs]++
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	m.reporter.setScan(r, scan)
	return scan.Stale, scan.Unreadable, nil
}

// scanPages reads the resource's keys in pages of BatchSize, in key order.
func (m *migrator) scanPages(ctx context.Context, r *resource, fn func([]*mvccpb.KeyValue) error) error {
	cli, err := m.etcd.get()
	if err != nil {
		return err
	}
	key, end := r.rawPrefix, clientv3.GetPrefixRangeEnd(r.rawPrefix)
	for {
		resp, err := cli.Get(ctx, key, clientv3.WithRange(end), clientv3.WithLimit(m.opts.BatchSize))
		if err != nil {
			return err
		}
		if err := fn(resp.Kvs); err != nil {
			return err
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// rewriteAll writes every object that needs it again.
func (m *migrator) rewriteAll(ctx context.Context) {
	for _, r := range m.resources {
		m.rewrite(ctx, r)
	}
}

// rewrite writes every object of r that needs it again, rate limited, Workers at a time.
func (m *migrator) rewrite(ctx context.Context, r *resource) {
	err := m.scanPages(ctx, r, func(kvs []*mvccpb.KeyValue) error {
		sem := make(chan struct{}, m.opts.Workers)
		var wg sync.WaitGroup
		for _, kv := range kvs {
			if _, rewrite, err := m.needsRewrite(ctx, r, kv); err != nil || !rewrite {
				continue
			}
			if err := m.limiter.Wait(ctx); err != nil {
				break
			}
			wg.Add(1)
			sem <- struct{}{}
			go func(raw string) {
				defer wg.Done()
				defer func() { <-sem }()
				m.rewriteOne(ctx, r, raw)
			}(string(kv.Key))
		}
		wg.Wait()
		return ctx.Err()
	})
	if err != nil && ctx.Err() == nil {
		m.reporter.setLastError(r, fmt.Errorf("scanning etcd: %w", err))
	}
}

// keepAsIs is a no-op update, as the library's storage version migration does: the store
// writes anyway when the read was stale (an old key) or the stored bytes differ from what its
// codec would write now (another format), and writes with the current write key. Optimistic concurrency (retried on conflict)
// means a concurrent write is never reverted, and a deleted object is never recreated (not
// found is an error).
var keepAsIs = storage.SimpleUpdate(func(obj runtime.Object) (runtime.Object, error) { return obj, nil })

func (m *migrator) rewriteOne(ctx context.Context, r *resource, raw string) {
	key := r.storeKey(raw)
	err := r.store.Storage.GuaranteedUpdate(ctx, key, r.store.NewFunc(), false, nil, keepAsIs, false, nil)
	if err != nil && ctx.Err() != nil {
		return
	}
	if err != nil && !storage.IsNotFound(err) {
		klog.ErrorS(err, "Re-encrypting a stored object failed; it is retried on the next scan", "resource", r.gr.String(), "key", key)
	}
	m.reporter.setRewritten(r, err)
}
