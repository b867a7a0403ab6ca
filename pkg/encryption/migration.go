package encryption

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/klog/v2"
)

// pass counts the objects of every resource that do not match the configuration in effect.
// If there are any and this replica gets the migration lock, it rewrites them and reports busy:
// only a later pass that finds nothing to do returns a clean state, and only if the write key
// did not change meanwhile. A restart simply starts with a new pass: progress is in etcd.
func (c *Controller) pass(ctx context.Context) (*cleanState, bool) {
	cs := &cleanState{diskHash: c.diskHash, loaded: c.loaded, fps: map[*resource][]byte{}}
	for _, r := range c.order {
		fp, err := writeFingerprint(ctx, r.t.lib, r.probeKey())
		if err != nil {
			c.setLastError(r, err)
			return nil, false
		}
		cs.fps[r] = fp
	}
	stale, unreadable := 0, 0
	for _, r := range c.order {
		s, u, err := c.count(ctx, r)
		if err != nil {
			c.setLastError(r, fmt.Errorf("scanning etcd: %w", err))
			return nil, false
		}
		stale, unreadable = stale+s, unreadable+u
	}
	now := time.Now()
	c.mu.Lock()
	c.status.LastScanCompleted = &now
	c.mu.Unlock()

	if stale > 0 {
		lctx, unlock, ok := c.tryLead(ctx)
		if !ok {
			return nil, false
		}
		c.setMigrating(true)
		for _, r := range c.order {
			c.rewrite(lctx, r)
		}
		c.setMigrating(false)
		unlock()
		return nil, true
	}
	if unreadable > 0 {
		return nil, false
	}
	for r, fp := range cs.fps {
		if !fingerprintCurrent(ctx, r.t.lib, r.probeKey(), fp) {
			return nil, true // the write key changed during the scan: scan again now
		}
	}
	cs.at = time.Now()
	return cs, false
}

// scanPages reads the resource's keys in pages of BatchSize, in key order.
func (c *Controller) scanPages(ctx context.Context, r *resource, fn func([]*mvccpb.KeyValue) error) error {
	cli, err := c.client()
	if err != nil {
		return err
	}
	key, end := r.rawPrefix, clientv3.GetPrefixRangeEnd(r.rawPrefix)
	for {
		resp, err := cli.Get(ctx, key, clientv3.WithRange(end), clientv3.WithLimit(c.opts.BatchSize))
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

// count classifies every stored object of r the way the store does on read.
func (c *Controller) count(ctx context.Context, r *resource) (stale, unreadable int, err error) {
	objects, storedWith := 0, map[string]int{}
	var lastErr error
	err = c.scanPages(ctx, r, func(kvs []*mvccpb.KeyValue) error {
		for _, kv := range kvs {
			objects++
			storedWith[StoredPrefix(kv.Value)]++
			_, s, err := r.t.TransformFromStorage(ctx, kv.Value, value.DefaultContext(kv.Key))
			switch {
			case err != nil:
				unreadable++
				lastErr = err
			case s:
				stale++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	remainingGauge.WithLabelValues(r.gr.String()).Set(float64(stale + unreadable))
	if unreadable > 0 {
		errorsTotal.WithLabelValues(r.gr.String()).Add(float64(unreadable))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r.status.Objects, r.status.Remaining, r.status.Unreadable, r.status.StoredWith = objects, stale+unreadable, unreadable, storedWith
	if lastErr != nil {
		r.status.LastError = lastErr.Error()
	}
	c.refreshMessage()
	return stale, unreadable, nil
}

// rewrite writes every stale object of r again, rate limited, Workers at a time.
func (c *Controller) rewrite(ctx context.Context, r *resource) {
	err := c.scanPages(ctx, r, func(kvs []*mvccpb.KeyValue) error {
		sem := make(chan struct{}, c.opts.Workers)
		var wg sync.WaitGroup
		for _, kv := range kvs {
			if _, stale, err := r.t.TransformFromStorage(ctx, kv.Value, value.DefaultContext(kv.Key)); err != nil || !stale {
				continue
			}
			if err := c.limiter.Wait(ctx); err != nil {
				break
			}
			wg.Add(1)
			sem <- struct{}{}
			go func(raw string) {
				defer wg.Done()
				defer func() { <-sem }()
				c.rewriteOne(ctx, r, raw)
			}(string(kv.Key))
		}
		wg.Wait()
		return ctx.Err()
	})
	if err != nil && ctx.Err() == nil {
		c.setLastError(r, fmt.Errorf("scanning etcd: %w", err))
	}
}

// keepAsIs is a no-op update: the store writes anyway because the read was stale, and writes
// with the current write key. Optimistic concurrency (retried on conflict) means a concurrent
// write is never reverted, and a deleted object is never recreated (not found is an error).
var keepAsIs = storage.SimpleUpdate(func(obj runtime.Object) (runtime.Object, error) { return obj, nil })

func (c *Controller) rewriteOne(ctx context.Context, r *resource, raw string) {
	key := r.storeKey(raw)
	err := r.store.Storage.GuaranteedUpdate(ctx, key, r.store.NewFunc(), false, nil, keepAsIs, false, nil)
	if err != nil && ctx.Err() != nil {
		return
	}
	gr := r.gr.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		r.status.Migrated++
		r.status.Remaining--
		migratedTotal.WithLabelValues(gr).Inc()
	case storage.IsNotFound(err):
		r.status.Remaining-- // deleted meanwhile
	default:
		r.status.Errors++
		r.status.LastError = err.Error()
		errorsTotal.WithLabelValues(gr).Inc()
		klog.ErrorS(err, "Re-encrypting a stored object failed; it is retried on the next pass", "resource", gr, "key", key)
	}
	remainingGauge.WithLabelValues(gr).Set(float64(max(0, r.status.Remaining)))
}

func (c *Controller) setLastError(r *resource, err error) {
	klog.ErrorS(err, "Encryption re-encryption pass failed", "resource", r.gr.String())
	c.mu.Lock()
	defer c.mu.Unlock()
	r.status.LastError = err.Error()
	c.refreshMessage()
}

func (c *Controller) setMigrating(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.Migrating = on
}
