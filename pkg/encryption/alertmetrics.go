package encryption

import (
	"os"
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"sigs.k8s.io/yaml"
)

// Gauges the alerts in artifacts/monitoring read: each is a plain 0/1 or a count per resource,
// so an alert needs no knowledge of the status JSON.
var (
	unreadableGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "migration_objects_unreadable",
		Help:           "Stored objects that no configured key can decrypt, as of the last scan (a key was removed before every object was rewritten).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource"})
	replicasAgreeGauge = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "replicas_agree",
		Help:           "1 when every live replica sharing this etcd has the same encryption configuration file in effect, else 0.",
		StabilityLevel: metrics.ALPHA,
	})
	replicasGauge = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "replicas",
		Help:           "Live replicas sharing this etcd that published their encryption configuration.",
		StabilityLevel: metrics.ALPHA,
	})
	// A vector without labels, so it can be absent when there is no KMS provider.
	kmsHealthyGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "kms_healthy",
		Help:           "1 when every KMS plugin of the encryption configuration in effect answers its health check, else 0; absent without KMS providers.",
		StabilityLevel: metrics.ALPHA,
	}, nil)
	registerAlertOnce sync.Once
)

func registerAlertMetrics() {
	registerAlertOnce.Do(func() {
		legacyregistry.MustRegister(unreadableGauge, replicasAgreeGauge, replicasGauge, kmsHealthyGauge)
	})
}

func boolGauge(g interface{ Set(float64) }, v bool) {
	if v {
		g.Set(1)
	} else {
		g.Set(0)
	}
}

func recordReplicas(agree bool, all []ReplicaStatus) {
	boolGauge(replicasAgreeGauge, agree)
	replicasGauge.Set(float64(len(all)))
}

// kmsHealth reports the library's KMS health check of the configuration the server serves
// with. That check exists whenever automatic reload is on, KMS or not, so the file is read to
// tell whether there is a KMS provider to report on.
type kmsHealth struct {
	hash string // file content the verdict below is about
	used bool
}

// record runs the check (cached by the library: 20 s when healthy, 3 s when not).
func (k *kmsHealth) record(t *configTracker) {
	if t.libraryHealth == nil || t.current == nil {
		return
	}
	if k.hash != t.current.hash {
		k.hash, k.used = t.current.hash, fileUsesKMS(t.file)
		if !k.used {
			kmsHealthyGauge.Reset()
		}
	}
	if k.used {
		boolGauge(kmsHealthyGauge.WithLabelValues(), checkHealth(t.libraryHealth) == nil)
	}
}

// fileUsesKMS reports whether the encryption configuration file names a KMS provider. The file
// was already validated by the library; unreadable means no verdict, as no KMS.
func fileUsesKMS(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	var cfg struct {
		Resources []struct {
			Providers []map[string]any `json:"providers"`
		} `json:"resources"`
	}
	if yaml.Unmarshal(b, &cfg) != nil {
		return false
	}
	for _, r := range cfg.Resources {
		for _, p := range r.Providers {
			if _, ok := p["kms"]; ok {
				return true
			}
		}
	}
	return false
}
