package encryption

import (
	"context"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/klog/v2"
)

// loadedConfig is this controller's own copy of one version of the configuration file: it tells
// which write key the file asks for, and keeps decrypting data written under it after the file
// has moved on.
type loadedConfig struct {
	hash         string
	transformers encryptionconfig.StaticTransformers
	health       healthz.HealthChecker
	cancel       context.CancelFunc
}

func loadConfig(ctx context.Context, file, apiServerID string) (*loadedConfig, error) {
	ctx, cancel := context.WithCancel(ctx)
	// reload=true: the same validation as the library's reloads, and one combined KMS health check.
	cfg, err := encryptionconfig.LoadEncryptionConfig(ctx, file, true, apiServerID)
	if err != nil {
		cancel()
		return nil, err
	}
	l := &loadedConfig{hash: cfg.EncryptionFileContentHash, transformers: cfg.Transformers, cancel: cancel}
	if len(cfg.HealthChecks) == 1 {
		l.health = cfg.HealthChecks[0]
	}
	return l, nil
}

func (l *loadedConfig) transformer(gr schema.GroupResource) value.Transformer {
	return l.transformers.TransformerForResource(gr)
}

// maxPrevious bounds the earlier configurations kept for reads.
const maxPrevious = 8

// configTracker follows the configuration file. Reads from the stores may fall back to the
// configurations it loaded (fallback); everything else is owned by the controller's loop.
type configTracker struct {
	file        string
	apiServerID string
	// libraryHealth is the library's KMS check of the configuration it serves with.
	libraryHealth healthz.HealthChecker

	diskHash    string // hash of the file content last read
	loadErr     error  // why the file content on disk could not be loaded
	lastLoadTry time.Time
	current     *loadedConfig   // the latest content loaded
	previous    []*loadedConfig // earlier contents, newest first
	fallback    atomic.Pointer[[]*loadedConfig]
}

// fallbackConfigs are the configurations reads may fall back to; safe from any goroutine.
func (t *configTracker) fallbackConfigs() []*loadedConfig {
	if p := t.fallback.Load(); p != nil {
		return *p
	}
	return nil
}

// hash identifies the latest content loaded ("" before the first load).
func (t *configTracker) hash() string {
	if t.current == nil {
		return ""
	}
	return t.current.hash
}

// refresh loads the file again when its content changed (or the last load failed). It
// returns an error only when loading fails in a new way.
func (t *configTracker) refresh(ctx context.Context) error {
	if t.file == "" {
		return nil
	}
	h, err := encryptionconfig.GetEncryptionConfigHash(t.file)
	if err == nil && h == t.diskHash && (t.loadErr == nil || time.Since(t.lastLoadTry) < 5*time.Second) {
		return nil
	}
	t.lastLoadTry = time.Now()
	var l *loadedConfig
	if err == nil {
		t.diskHash = h
		l, err = loadConfig(ctx, t.file, t.apiServerID)
	}
	if err != nil {
		repeated := t.loadErr != nil && t.loadErr.Error() == err.Error()
		t.loadErr = err
		if repeated {
			return nil
		}
		klog.ErrorS(err, "Encryption configuration file could not be loaded; the previous configuration stays in effect", "file", t.file)
		return err
	}
	t.loadErr = nil
	if t.current != nil {
		if l.hash == t.current.hash {
			l.cancel()
			return nil
		}
		t.previous = append([]*loadedConfig{t.current}, t.previous...)
		if len(t.previous) > maxPrevious {
			t.previous[maxPrevious].cancel()
			t.previous = t.previous[:maxPrevious]
		}
	}
	t.current = l
	klog.InfoS("Loaded encryption configuration file", "file", t.file, "hash", l.hash)
	t.publish()
	return nil
}

func (t *configTracker) publish() {
	var list []*loadedConfig
	if t.current != nil {
		list = append(list, t.current)
	}
	list = append(list, t.previous...)
	t.fallback.Store(&list)
}

// inEffect reports whether the file on disk is the configuration the stores write with.
func (t *configTracker) inEffect(ctx context.Context, resources []*resource) (bool, error) {
	if t.file == "" {
		return true, nil
	}
	if t.loadErr != nil || t.current == nil || t.current.hash != t.diskHash {
		return false, nil
	}
	_ = checkHealth(t.libraryHealth)
	_ = checkHealth(t.current.health)
	for _, r := range resources {
		same, err := sameWriteKey(ctx, r.t.primary, t.current.transformer(r.gr), r.probeKey())
		if err != nil || !same {
			return false, err
		}
	}
	return true, nil
}

// forgetPrevious drops earlier configurations once nothing stored needs them.
func (t *configTracker) forgetPrevious() {
	if len(t.previous) == 0 {
		return
	}
	old := t.previous
	t.previous = nil
	t.publish()
	for _, l := range old {
		l.cancel()
	}
}

func (t *configTracker) close() {
	for _, l := range append([]*loadedConfig{t.current}, t.previous...) {
		if l != nil {
			l.cancel()
		}
	}
}
