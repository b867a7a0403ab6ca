// Package encryption owns encryption at rest: it loads the EncryptionConfiguration file with
// the library's loader, hands every store its transformer and reloads the file when it changes
// (keyring, config.go); and it rewrites every object whose stored form does not match the
// configuration in effect (after a key rotation, a provider change, or a resource added to or
// removed from encryption), reports progress as metrics and at /encryption-status, and lets
// one replica at a time do so.
//
// The Controller runs the loop and owns its parts, one concern each: the keyring, the scan and
// rewrite of stored objects (migrator, migration.go), the replicas sharing the etcd
// (replicaSet, replicas.go), and what is reported (reporter, status.go and metrics.go).
package encryption

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

// Controller keeps etcd in line with the encryption configuration.
type Controller struct {
	opts       Options
	keyring    *keyring
	etcdPrefix string
	migrator   *migrator
	replicas   *replicaSet
	reporter   *reporter
	etcd       *etcdClient
}

// resource is one stored resource the controller keeps in line.
type resource struct {
	gr        schema.GroupResource
	t         *transformer
	codec     storageCodec // the store's codec
	rawPrefix string       // etcd keys of the objects start with this, e.g. /registry-gardener/core.gardener.cloud/shoots/
	keyRoot   string       // the same prefix as the store names it, e.g. /core.gardener.cloud/shoots
	store     *genericregistry.Store
}

// storageCodec is what the controller asks the codec a store was built with
// (storagecodec.Codec): whether a stored value, decrypted, is in another form than the codec
// writes. Such a value is rewritten like one under an old key.
type storageCodec interface {
	Stale(stored []byte) bool
}

// storeKey turns an etcd key into the key the store's storage.Interface expects.
func (r *resource) storeKey(raw string) string {
	return r.keyRoot + "/" + strings.TrimPrefix(raw, r.rawPrefix)
}

// Install registers the stores to keep in line (built with the server's storage config: the
// storage codec and the transformers the keyring handed out), serves StatusPath and starts the
// controller and the configuration reloads after the server started.
func (c *Controller) Install(s *genericapiserver.GenericAPIServer, stores ...*genericregistry.Store) error {
	if c == nil {
		return nil
	}
	var order []*resource
	for _, st := range stores {
		gr := st.DefaultQualifiedResource
		t := c.keyring.transformerOf(gr)
		if t == nil {
			return fmt.Errorf("encryption: store %s was not built with the server's storage config", gr)
		}
		codec, ok := st.Storage.Codec.(storageCodec)
		if !ok {
			return fmt.Errorf("encryption: store %s was not built with the server's storage codec", gr)
		}
		keyRoot := "/" + strings.Trim(st.KeyRootFunc(genericapirequest.NewContext()), "/")
		order = append(order, &resource{gr: gr, t: t, codec: codec, store: st, keyRoot: keyRoot,
			rawPrefix: path.Join("/", c.etcdPrefix, keyRoot) + "/"})
	}
	c.migrator.resources = order
	c.reporter.setResources(order, c.keyring.current)
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
		go c.keyring.run(ctx)
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
		cfg := c.checkConfig(ctx)
		agree := c.syncReplicas(ctx, cfg)
		wait := tick
		if !c.stillClean(ctx, clean, cfg) {
			c.reporter.setAllMigrated(false)
			var busy bool
			clean, busy = c.migrate(ctx, cfg)
			switch {
			case busy:
				wait = 0 // verify at once
			case clean == nil:
				// Another replica migrates, unreadable objects, or errors: look again later.
				wait = max(tick, 5*time.Second)
			default:
				agree = c.syncReplicas(ctx, cfg)
			}
		}
		allMigrated := clean != nil && cfg.loaded && agree
		if allMigrated {
			// Earlier configurations are forgotten once no object and no replica needs them.
			c.keyring.forgetPrevious()
		}
		c.reporter.setAllMigrated(allMigrated)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// configState is the configuration in effect as one pass of the loop saw it.
type configState struct {
	gen    *generation
	loaded bool // the file on disk is the configuration in effect
}

// checkConfig runs the KMS health checks (which rotate the KMS v2 DEK on a new key ID) and
// reports the configuration in effect with every resource's write prefix.
func (c *Controller) checkConfig(ctx context.Context) configState {
	recordKMSHealth(c.keyring.checkHealth(ctx))
	loaded, hash, err := c.keyring.state()
	gen := c.keyring.current()
	c.reporter.setConfig(loaded, err, hash, c.migrator.writePrefixes(gen))
	return configState{gen: gen, loaded: loaded}
}

func (c *Controller) syncReplicas(ctx context.Context, cfg configState) bool {
	agree, all := c.replicas.sync(ctx, ReplicaStatus{ConfigHash: cfg.gen.hash, ConfigLoaded: cfg.loaded})
	c.reporter.setReplicas(agree, all)
	return agree
}

// cleanState remembers what a scan that found nothing to do was made under, and values it
// found current: if one of them reads as stale later, the write key changed (a KMS v2 key ID
// rotation changes it without a new file).
type cleanState struct {
	cfg       configState
	writeSeq  map[*resource]uint64 // writes up to these counts were covered by the scan
	witnesses map[*resource]*storedValue
	at        time.Time
}

// stillClean: nothing that decides the stored form changed since the last clean scan.
func (c *Controller) stillClean(ctx context.Context, cs *cleanState, cfg configState) bool {
	return cs != nil && cs.cfg == cfg && time.Since(cs.at) <= c.opts.ResyncInterval && c.stillCurrent(ctx, cs)
}

// stillCurrent: the values the scan found current, and the stores' last writes since it
// started, still read as current.
func (c *Controller) stillCurrent(ctx context.Context, cs *cleanState) bool {
	for _, r := range c.migrator.resources {
		if w := cs.witnesses[r]; w != nil && !r.t.isCurrent(ctx, w) {
			return false
		}
		if w := r.t.lastWrite.Load(); w != nil && w.seq > cs.writeSeq[r] && !r.t.isCurrent(ctx, w) {
			return false
		}
	}
	return true
}

// migrate counts the objects of every resource that do not match the configuration in effect.
// If there are any and this replica gets the migration lock, it rewrites them and reports busy:
// only a later call that finds nothing to do returns a clean state, and only if the write key
// did not change meanwhile. A restart simply starts anew: progress is in etcd.
func (c *Controller) migrate(ctx context.Context, cfg configState) (*cleanState, bool) {
	cs := &cleanState{cfg: cfg, writeSeq: map[*resource]uint64{}}
	for _, r := range c.migrator.resources {
		cs.writeSeq[r] = r.t.writes.Load()
	}
	stale, unreadable, ok := c.migrator.countAll(ctx, cfg.gen)
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
	cs.witnesses = c.migrator.witnesses
	if !c.stillCurrent(ctx, cs) {
		return nil, true // the write key changed during the scan: scan again now
	}
	cs.at = time.Now()
	return cs, false
}

func (c *Controller) close() {
	c.replicas.close()
	c.etcd.close()
}
