// Package encryption applies the encryption-at-rest configuration to the stored objects: it
// rewrites every object whose stored form does not match the configuration in effect (after a
// key rotation, a provider change, or a resource added to or removed from encryption), reports
// progress as metrics and at /encryption-status, and lets one replica at a time do so.
//
// The Controller runs the loop and owns its parts, one concern each: the configuration file
// (configTracker, config.go), the scan and rewrite of stored objects (migrator, migration.go),
// the replicas sharing the etcd (replicaSet, replicas.go), and what is reported (reporter,
// status.go and metrics.go).
package encryption

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

// Controller keeps etcd in line with the encryption configuration.
type Controller struct {
	opts     Options
	config   *configTracker
	migrator *migrator
	replicas *replicaSet
	reporter *reporter
	etcd     *etcdClient
	kms      kmsHealth

	// mu guards resources while the REST options getter adds them; Install then fixes them.
	mu        sync.Mutex
	resources map[string]*resource
}

// resource is one stored resource the controller keeps in line.
type resource struct {
	gr        schema.GroupResource
	t         *transformer
	rawPrefix string // etcd keys of the objects start with this, e.g. /registry-gardener/core.gardener.cloud/shoots/
	keyRoot   string // the same prefix as the store names it, e.g. /core.gardener.cloud/shoots
	store     *genericregistry.Store
}

// probeKey is the authenticated data used for probes; no object is stored there.
func (r *resource) probeKey() string { return r.rawPrefix + "encryption-probe" }

// storeKey turns an etcd key into the key the store's storage.Interface expects.
func (r *resource) storeKey(raw string) string {
	return r.keyRoot + "/" + strings.TrimPrefix(raw, r.rawPrefix)
}

func (c *Controller) addResource(gr schema.GroupResource, t *transformer, etcdPrefix, resourcePrefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.resources[gr.String()]; ok {
		return
	}
	pathPrefix := path.Join("/", etcdPrefix)
	if !strings.HasSuffix(pathPrefix, "/") {
		pathPrefix += "/"
	}
	keyRoot := "/" + strings.Trim(resourcePrefix, "/")
	c.resources[gr.String()] = &resource{gr: gr, t: t, keyRoot: keyRoot, rawPrefix: pathPrefix + keyRoot[1:] + "/"}
}

// Install registers the stores to keep in line (built with the REST options getter set up by
// ApplyTo), serves StatusPath and starts the controller after the server started.
func (c *Controller) Install(s *genericapiserver.GenericAPIServer, stores ...*genericregistry.Store) error {
	if c == nil {
		return nil
	}
	var order []*resource
	c.mu.Lock()
	for _, st := range stores {
		r := c.resources[st.DefaultQualifiedResource.String()]
		if r == nil {
			c.mu.Unlock()
			return fmt.Errorf("encryption: store %s was not built with the encryption REST options getter", st.DefaultQualifiedResource)
		}
		r.store = st
		order = append(order, r)
	}
	c.mu.Unlock()
	c.migrator.resources = order
	c.reporter.setResources(order)
	registerMetrics()
	s.Handler.NonGoRestfulMux.Handle(StatusPath, c.reporter)
	return c.addHooks(s)
}

// addHooks starts the loop after the server started and stops it before the server does, so
// the lease is revoked: the lock and this replica's record go at once instead of after
// sessionTTL.
func (c *Controller) addHooks(s *genericapiserver.GenericAPIServer) error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var started atomic.Bool
	if err := s.AddPostStartHook("garden-encryption-migration", func(hctx genericapiserver.PostStartHookContext) error {
		go func() {
			<-hctx.Done()
			cancel()
		}()
		started.Store(true)
		go func() {
			defer close(done)
			c.Run(ctx)
		}()
		return nil
	}); err != nil {
		return err
	}
	return s.AddPreShutdownHook("garden-encryption-migration", func() error {
		cancel()
		if !started.Load() {
			return nil
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		return nil
	})
}

// Status returns a copy of the current status.
func (c *Controller) Status() Status { return c.reporter.snapshot() }

// Run checks the configuration every second (or the reload interval, if shorter) and scans
// etcd whenever the configuration in effect changed since the last clean scan.
func (c *Controller) Run(ctx context.Context) {
	defer c.close()
	tick := min(time.Second, c.opts.ReloadInterval)
	var clean *cleanState
	for ctx.Err() == nil {
		if err := c.config.refresh(ctx); err != nil {
			c.reporter.configLoadFailed()
		}
		loaded := c.checkConfig(ctx)
		c.kms.record(c.config)
		agree := c.syncReplicas(ctx, loaded)
		wait := tick
		if !c.stillClean(ctx, clean, loaded) {
			c.reporter.setAllMigrated(false)
			var busy bool
			clean, busy = c.migrate(ctx, loaded)
			switch {
			case busy:
				wait = 0 // verify at once
			case clean == nil:
				// Another replica migrates, unreadable objects, or errors: look again later.
				wait = max(tick, 5*time.Second)
			default:
				agree = c.syncReplicas(ctx, loaded)
			}
		}
		allMigrated := clean != nil && loaded && agree
		if allMigrated {
			// Earlier configurations are forgotten once no object and no replica needs them.
			c.config.forgetPrevious()
		}
		c.reporter.setAllMigrated(allMigrated)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// checkConfig decides whether the file on disk is the configuration the server writes with,
// and reports it with every resource's write prefix.
func (c *Controller) checkConfig(ctx context.Context) bool {
	loaded, err := c.config.inEffect(ctx, c.migrator.resources)
	if c.config.loadErr != nil {
		err = c.config.loadErr
	}
	c.reporter.setConfig(loaded, err, c.config.hash(), c.migrator.writePrefixes(ctx))
	return loaded
}

func (c *Controller) syncReplicas(ctx context.Context, loaded bool) bool {
	agree, all := c.replicas.sync(ctx, ReplicaStatus{ConfigHash: c.config.hash(), ConfigLoaded: loaded})
	c.reporter.setReplicas(agree, all)
	return agree
}

// cleanState remembers what a scan that found nothing to do was checked against.
type cleanState struct {
	diskHash     string
	loaded       bool
	fingerprints map[*resource][]byte
	at           time.Time
}

// stillClean: nothing that decides the stored form changed since the last clean scan.
func (c *Controller) stillClean(ctx context.Context, cs *cleanState, loaded bool) bool {
	if cs == nil || cs.loaded != loaded || cs.diskHash != c.config.diskHash || time.Since(cs.at) > c.opts.ResyncInterval {
		return false
	}
	for r, fp := range cs.fingerprints {
		if !fingerprintCurrent(ctx, r.t.primary, r.probeKey(), fp) {
			return false
		}
	}
	return true
}

// migrate counts the objects of every resource that do not match the configuration in effect.
// If there are any and this replica gets the migration lock, it rewrites them and reports busy:
// only a later call that finds nothing to do returns a clean state, and only if the write key
// did not change meanwhile. A restart simply starts anew: progress is in etcd.
func (c *Controller) migrate(ctx context.Context, loaded bool) (*cleanState, bool) {
	cs := &cleanState{diskHash: c.config.diskHash, loaded: loaded}
	var ok bool
	if cs.fingerprints, ok = c.migrator.fingerprints(ctx); !ok {
		return nil, false
	}
	stale, unreadable, ok := c.migrator.countAll(ctx)
	if !ok {
		return nil, false
	}
	if stale > 0 {
		lctx, unlock, ok := c.replicas.tryLead(ctx)
		if !ok {
			return nil, false
		}
		c.reporter.setMigrating(true)
		c.migrator.rewriteAll(lctx)
		c.reporter.setMigrating(false)
		unlock()
		return nil, true
	}
	if unreadable > 0 {
		return nil, false
	}
	for r, fp := range cs.fingerprints {
		if !fingerprintCurrent(ctx, r.t.primary, r.probeKey(), fp) {
			return nil, true // the write key changed during the scan: scan again now
		}
	}
	cs.at = time.Now()
	return cs, false
}

func (c *Controller) close() {
	c.config.close()
	c.replicas.close()
	c.etcd.close()
}
