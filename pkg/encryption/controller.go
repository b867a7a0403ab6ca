// Package encryption applies the encryption-at-rest configuration to the stored objects: it
// rewrites every object whose stored form does not match the configuration in effect (after a
// key rotation, a provider change, or a resource added to or removed from encryption), reports
// progress as metrics and at /encryption-status, and lets one replica at a time do so.
package encryption

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/klog/v2"
)

// Controller keeps etcd in line with the encryption configuration.
type Controller struct {
	opts        Options
	file        string
	reload      bool
	apiServerID string
	replicaID   string
	transport   storagebackend.TransportConfig
	etcdPrefix  string
	libHealth   healthz.HealthChecker

	mu        sync.Mutex // guards resources, order, status and resource statuses
	resources map[string]*resource
	order     []*resource
	status    Status

	// fallback holds the configurations loaded by this process that reads may fall back to.
	fallback atomic.Pointer[[]*loadedConfig]

	// Owned by the Run goroutine.
	shadow      *loadedConfig
	retained    []*loadedConfig
	diskHash    string
	configErr   error
	lastLoadTry time.Time
	loaded      bool
	cli         *clientv3.Client
	session     *concurrency.Session
	published   string
	limiter     *rate.Limiter
}

type resource struct {
	gr        schema.GroupResource
	t         *transformer
	rawPrefix string // etcd keys of the objects start with this, e.g. /registry-gardener/core.gardener.cloud/shoots/
	keyRoot   string // the same prefix as the store names it, e.g. /core.gardener.cloud/shoots
	store     *genericregistry.Store
	status    ResourceStatus
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
	r := &resource{gr: gr, t: t, keyRoot: keyRoot, rawPrefix: pathPrefix + keyRoot[1:] + "/",
		status: ResourceStatus{Resource: gr.String()}}
	c.resources[gr.String()] = r
}

func (c *Controller) fallbackConfigs() []*loadedConfig {
	if p := c.fallback.Load(); p != nil {
		return *p
	}
	return nil
}

// Install registers the stores to keep in line (built with the REST options getter set up by
// ApplyTo), serves StatusPath and starts the controller after the server started.
func (c *Controller) Install(s *genericapiserver.GenericAPIServer, stores ...*genericregistry.Store) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	for _, st := range stores {
		r := c.resources[st.DefaultQualifiedResource.String()]
		if r == nil {
			c.mu.Unlock()
			return fmt.Errorf("encryption: store %s was not built with the encryption REST options getter", st.DefaultQualifiedResource)
		}
		r.store = st
		c.order = append(c.order, r)
	}
	c.status = Status{ConfigFile: c.file, AutomaticReload: c.reload, Replica: c.replicaID}
	c.mu.Unlock()
	registerMetrics()
	s.Handler.NonGoRestfulMux.Handle(StatusPath, c)
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
	// Stop before the server does, so the lease is revoked: the lock and this replica's record
	// go at once instead of after sessionTTL.
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

// cleanState remembers what a scan that found nothing to do was checked against.
type cleanState struct {
	diskHash string
	loaded   bool
	fps      map[*resource][]byte
	at       time.Time
}

// Run checks the configuration every second (or the reload interval, if shorter) and scans
// etcd whenever the configuration in effect changed since the last clean scan.
func (c *Controller) Run(ctx context.Context) {
	defer c.shutdown()
	tick := min(time.Second, c.opts.ReloadInterval)
	if c.opts.Rate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(c.opts.Rate), 1)
	} else {
		c.limiter = rate.NewLimiter(rate.Inf, 1)
	}
	var clean *cleanState
	for ctx.Err() == nil {
		c.refreshConfig(ctx)
		c.checkLoaded(ctx)
		agree := c.syncReplicas(ctx)
		wait := tick
		if !c.stillClean(ctx, clean) {
			c.setAllMigrated(false)
			var busy bool
			clean, busy = c.pass(ctx)
			switch {
			case busy:
				wait = 0 // verify at once
			case clean == nil:
				// Another replica migrates, unreadable objects, or errors: look again later.
				wait = max(tick, 5*time.Second)
			default:
				agree = c.syncReplicas(ctx)
			}
		}
		allMigrated := clean != nil && c.loaded && agree
		if allMigrated {
			// Earlier configurations are forgotten once no object and no replica needs them.
			c.dropRetained()
		}
		c.setAllMigrated(allMigrated)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// refreshConfig loads the file again when its content changed (or the last load failed).
func (c *Controller) refreshConfig(ctx context.Context) {
	if c.file == "" {
		return
	}
	h, err := encryptionconfig.GetEncryptionConfigHash(c.file)
	if err == nil && h == c.diskHash && (c.configErr == nil || time.Since(c.lastLoadTry) < 5*time.Second) {
		return
	}
	c.lastLoadTry = time.Now()
	var l *loadedConfig
	if err == nil {
		c.diskHash = h
		l, err = loadConfig(ctx, c.file, c.apiServerID)
	}
	if err != nil {
		if c.configErr == nil || c.configErr.Error() != err.Error() {
			configErrorsTotal.Inc()
			klog.ErrorS(err, "Encryption configuration file could not be loaded; the previous configuration stays in effect", "file", c.file)
		}
		c.configErr = err
		return
	}
	c.configErr = nil
	if c.shadow != nil {
		if l.hash == c.shadow.hash {
			l.cancel()
			return
		}
		c.retained = append([]*loadedConfig{c.shadow}, c.retained...)
		if len(c.retained) > 8 {
			c.retained[8].cancel()
			c.retained = c.retained[:8]
		}
	}
	c.shadow = l
	klog.InfoS("Loaded encryption configuration file", "file", c.file, "hash", l.hash)
	c.publishFallback()
}

func (c *Controller) publishFallback() {
	var list []*loadedConfig
	if c.shadow != nil {
		list = append(list, c.shadow)
	}
	list = append(list, c.retained...)
	c.fallback.Store(&list)
}

// dropRetained forgets earlier configurations once nothing stored needs them.
func (c *Controller) dropRetained() {
	if len(c.retained) == 0 {
		return
	}
	old := c.retained
	c.retained = nil
	c.publishFallback()
	for _, l := range old {
		l.cancel()
	}
}

func (c *Controller) shutdown() {
	for _, l := range append([]*loadedConfig{c.shadow}, c.retained...) {
		if l != nil {
			l.cancel()
		}
	}
	if c.session != nil {
		_ = c.session.Close()
	}
	if c.cli != nil {
		_ = c.cli.Close()
	}
}

// checkLoaded decides whether the file on disk is the configuration the server writes with.
func (c *Controller) checkLoaded(ctx context.Context) {
	loaded, err := c.fileInEffect(ctx)
	c.loaded = loaded
	if loaded {
		configLoadedGauge.Set(1)
	} else {
		configLoadedGauge.Set(0)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.ConfigLoaded = loaded
	c.status.ConfigError = ""
	if c.configErr != nil {
		c.status.ConfigError = c.configErr.Error()
	} else if err != nil {
		c.status.ConfigError = err.Error()
	}
	if c.shadow != nil && c.status.ConfigHash != c.shadow.hash {
		c.status.ConfigHash = c.shadow.hash
		// Never show a new hash next to the verdict about the previous configuration.
		c.status.AllMigrated = false
		completeGauge.Set(0)
	}
	if !loaded {
		c.status.AllMigrated = false
		completeGauge.Set(0)
	}
	for _, r := range c.order {
		if out, err := writeFingerprint(ctx, r.t.lib, r.probeKey()); err == nil {
			r.status.WritePrefix = StoredPrefix(out)
		}
	}
	c.refreshMessage()
}

func (c *Controller) fileInEffect(ctx context.Context) (bool, error) {
	if c.file == "" {
		return true, nil
	}
	if c.configErr != nil || c.shadow == nil || c.shadow.hash != c.diskHash {
		return false, nil
	}
	_ = checkHealth(c.libHealth)
	_ = checkHealth(c.shadow.health)
	for _, r := range c.order {
		same, err := sameWriteKey(ctx, r.t.lib, c.shadow.transformer(r.gr), r.probeKey())
		if err != nil || !same {
			return false, err
		}
	}
	return true, nil
}

// stillClean: nothing that decides the stored form changed since the last clean scan.
func (c *Controller) stillClean(ctx context.Context, cs *cleanState) bool {
	if cs == nil || cs.loaded != c.loaded || cs.diskHash != c.diskHash || time.Since(cs.at) > c.opts.ResyncInterval {
		return false
	}
	for r, fp := range cs.fps {
		if !fingerprintCurrent(ctx, r.t.lib, r.probeKey(), fp) {
			return false
		}
	}
	return true
}

func (c *Controller) setAllMigrated(ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.AllMigrated = ok && c.status.LastScanCompleted != nil
	c.refreshMessage()
	if c.status.AllMigrated {
		completeGauge.Set(1)
	} else {
		completeGauge.Set(0)
	}
}

// refreshMessage needs c.mu.
func (c *Controller) refreshMessage() {
	s := c.status
	for _, r := range c.order {
		s.Resources = append(s.Resources, r.status)
	}
	c.status.Message = s.message(c.reload)
}
