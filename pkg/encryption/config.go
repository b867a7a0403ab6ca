package encryption

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/klog/v2"
)

// loadEncryptionConfig is the library's loader; the only call that reads the file's keys.
var loadEncryptionConfig = encryptionconfig.LoadEncryptionConfig

// generation is one version of the configuration file, loaded once.
type generation struct {
	hash         string
	transformers encryptionconfig.StaticTransformers
	health       []healthz.HealthChecker
	// closeGrace lets in-flight requests finish with a replaced generation before its KMS
	// connections close, as the library's reload does.
	closeGrace time.Duration
	cancel     context.CancelFunc
}

func (g *generation) transformer(gr schema.GroupResource) value.Transformer {
	return g.transformers.TransformerForResource(gr)
}

func (g *generation) checkHealth(req *http.Request) error {
	for _, h := range g.health {
		if err := h.Check(req); err != nil {
			return err
		}
	}
	return nil
}

// usesKMS: the configuration has a KMS provider. The library's close grace period is the sum
// of the KMS providers' timeouts, each of them positive.
func (g *generation) usesKMS() bool { return g.closeGrace > 0 }

func (g *generation) close() { time.AfterFunc(g.closeGrace, g.cancel) }

// generations is what the stores' transformers read, without locks: the configuration in
// effect and the ones loaded before it (newest first), which still decrypt data written under
// them until it is rewritten.
type generations struct {
	current  *generation
	previous []*generation
}

// maxPrevious bounds the earlier configurations kept for reads.
const maxPrevious = 8

// keyring is the one owner of the encryption configuration file: it loads it with the
// library's loader, hands every store its transformer, reloads the file when it changes (with
// automatic reload), and so knows which configuration the stores write with.
type keyring struct {
	file        string
	reload      bool
	interval    time.Duration
	apiServerID string
	// ctx is the server's lifetime (until requests drained): loaded KMS connections end with it.
	ctx context.Context
	// onNewLoadError counts a changed file that failed to load.
	onNewLoadError func()

	gens atomic.Pointer[generations]

	mu       sync.Mutex // guards the fields below and serialises changes of gens
	diskHash string     // hash of the file content last read
	loadErr  error      // why the file on disk is not in effect
	lastTry  time.Time

	handedOut sync.Map // schema.GroupResource -> *transformer
}

// newKeyring loads the file (no file: nothing is encrypted). reload is the automatic reload
// flag: without it the file is loaded once, as the library does.
func newKeyring(ctx context.Context, file string, reload bool, interval time.Duration, apiServerID string) (*keyring, error) {
	k := &keyring{file: file, reload: reload, interval: interval, apiServerID: apiServerID, ctx: ctx, onNewLoadError: func() {}}
	g := &generation{transformers: encryptionconfig.StaticTransformers{}, cancel: func() {}}
	if file != "" {
		var err error
		if g, err = k.load(reload); err != nil {
			return nil, err
		}
		klog.InfoS("Loaded encryption configuration file", "file", file, "hash", g.hash)
	}
	k.diskHash = g.hash
	k.gens.Store(&generations{current: g})
	return k, nil
}

func (k *keyring) load(reload bool) (*generation, error) {
	ctx, cancel := context.WithCancel(k.ctx)
	cfg, err := loadEncryptionConfig(ctx, k.file, reload, k.apiServerID)
	if err != nil {
		cancel()
		return nil, err
	}
	return &generation{hash: cfg.EncryptionFileContentHash, transformers: cfg.Transformers, health: cfg.HealthChecks,
		closeGrace: cfg.KMSCloseGracePeriod, cancel: cancel}, nil
}

// current is the configuration the stores write with.
func (k *keyring) current() *generation { return k.gens.Load().current }

// TransformerForResource hands a store its transformer: it always uses the configuration in
// effect.
func (k *keyring) TransformerForResource(gr schema.GroupResource) value.Transformer {
	t, _ := k.handedOut.LoadOrStore(gr, &transformer{gr: gr, gens: &k.gens})
	return t.(*transformer)
}

// transformerOf is the transformer handed to the store of gr, nil if none was.
func (k *keyring) transformerOf(gr schema.GroupResource) *transformer {
	t, ok := k.handedOut.Load(gr)
	if !ok {
		return nil
	}
	return t.(*transformer)
}

// state reports whether the file on disk is the configuration in effect, its hash, and why a
// changed file is not in effect.
func (k *keyring) state() (loaded bool, hash string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	hash = k.current().hash
	return k.loadErr == nil && k.diskHash == hash, hash, k.loadErr
}

// run checks the file every interval until ctx ends (the first check after one interval: the
// file was just loaded).
func (k *keyring) run(ctx context.Context) {
	if k.file == "" {
		return
	}
	tick := time.NewTicker(k.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			k.refresh(ctx)
		}
	}
}

// refresh reads the file's hash and, with automatic reload, applies a changed file. A broken
// file leaves the configuration in effect as it is and is retried every few seconds.
func (k *keyring) refresh(ctx context.Context) {
	h, err := encryptionconfig.GetEncryptionConfigHash(k.file)
	k.mu.Lock()
	retry := k.loadErr != nil && time.Since(k.lastTry) >= 5*time.Second
	if err == nil {
		retry = retry || h != k.diskHash
		k.diskHash = h
	}
	inEffect := err == nil && h == k.current().hash
	k.mu.Unlock()
	switch {
	case err != nil:
		k.failed(err)
	case inEffect:
		k.setLoadErr(nil)
	case k.reload && retry:
		k.apply(ctx)
	}
}

// apply loads the file and makes it the configuration in effect once its KMS plugins are
// healthy.
func (k *keyring) apply(ctx context.Context) {
	k.mu.Lock()
	k.lastTry = time.Now()
	k.mu.Unlock()
	g, err := k.load(true)
	if err == nil {
		if err = waitHealthy(ctx, g); err != nil {
			g.cancel()
		}
	}
	if err != nil {
		k.failed(err)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.loadErr = nil
	old := k.gens.Load()
	if g.hash == old.current.hash {
		g.cancel()
		return
	}
	previous := append([]*generation{old.current}, old.previous...)
	if len(previous) > maxPrevious {
		previous[maxPrevious].close()
		previous = previous[:maxPrevious]
	}
	k.gens.Store(&generations{current: g, previous: previous})
	reloadSucceeded(k.apiServerID, g.hash)
	klog.InfoS("Loaded encryption configuration file", "file", k.file, "hash", g.hash)
}

// waitHealthy gives new KMS plugins the library's grace period to answer their health check.
func waitHealthy(ctx context.Context, g *generation) error {
	timeout := max(g.closeGrace, 10*time.Second)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	pollErr := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/healthz/"+kmsHealthName, nil)
		err = g.checkHealth(req)
		return err == nil, nil
	})
	if pollErr != nil {
		if err == nil {
			err = pollErr
		}
		return fmt.Errorf("health check for new transformers failed: %w", err)
	}
	return nil
}

// failed records a load that failed; a new error is logged and counted once.
func (k *keyring) failed(err error) {
	if k.reload {
		reloadFailed(k.apiServerID)
	}
	if !k.setLoadErr(err) {
		return
	}
	klog.ErrorS(err, "Encryption configuration file could not be loaded; the previous configuration stays in effect", "file", k.file)
	k.onNewLoadError()
}

// setLoadErr reports whether err is new.
func (k *keyring) setLoadErr(err error) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	repeated := err != nil && k.loadErr != nil && k.loadErr.Error() == err.Error()
	k.loadErr = err
	return err != nil && !repeated
}

// forgetPrevious drops earlier configurations once nothing stored needs them.
func (k *keyring) forgetPrevious() {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.gens.Load()
	if len(old.previous) == 0 {
		return
	}
	k.gens.Store(&generations{current: old.current})
	for _, g := range old.previous {
		g.close()
	}
}

// checkHealth runs the KMS health checks of the configuration in effect (cached by the
// library); they also rotate the KMS v2 DEK when the plugin reports a new key ID.
func (k *keyring) checkHealth(ctx context.Context) (*generation, error) {
	g := k.current()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/healthz/"+kmsHealthName, nil)
	if err != nil {
		return g, err
	}
	return g, g.checkHealth(req)
}

// kmsHealthName is the library's name of the KMS check when the file may be reloaded.
const kmsHealthName = "kms-providers"

// healthChecks are the KMS checks for healthz and readyz, named as the library names them:
// with automatic reload one check of whatever configuration is in effect.
func (k *keyring) healthChecks() []healthz.HealthChecker {
	switch {
	case k.file == "":
		return nil
	case k.reload:
		return []healthz.HealthChecker{healthz.NamedCheck(kmsHealthName, func(r *http.Request) error {
			return k.current().checkHealth(r)
		})}
	default:
		return k.current().health
	}
}
