package encryption

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
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

// recordKMSHealth reports the KMS health check of the configuration in effect (err, as the
// check returned it); without a KMS provider the gauge is absent.
func recordKMSHealth(g *generation, err error) {
	if !g.usesKMS() {
		kmsHealthyGauge.Reset()
		return
	}
	boolGauge(kmsHealthyGauge.WithLabelValues(), err == nil)
}
