package shootaccess

import (
	"sync"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Refusal reasons: a fixed set, so label values stay bounded (no user or shoot names).
const (
	ReasonInvalidRequest = "invalid_request"
	ReasonNotFound       = "shoot_not_found"
	ReasonNoAddress      = "no_address"
	ReasonCAMissing      = "ca_missing"
	ReasonCAUnusable     = "ca_unusable"
	ReasonError          = "error"
)

const metricsSubsystem = "garden_apiserver_shoot_kubeconfig"

var (
	issuedTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "issued_total",
		Help:           "Shoot kubeconfigs issued, by kind (admin, viewer) and the group of the certificate.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"kind", "group"})
	refusedTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "refused_total",
		Help:           "Kubeconfig requests that were refused after authorization, by kind and reason.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"kind", "reason"})
	issueDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Subsystem:      metricsSubsystem,
		Name:           "issuance_duration_seconds",
		Help:           "Time to issue a shoot kubeconfig (reads, key generation, signature, rendering), by kind.",
		Buckets:        []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		StabilityLevel: metrics.ALPHA,
	}, []string{"kind"})
	registerMetricsOnce sync.Once
)

// RegisterMetrics adds the issuance metrics to the server's /metrics.
func RegisterMetrics() {
	registerMetricsOnce.Do(func() {
		legacyregistry.MustRegister(issuedTotal, refusedTotal, issueDuration, keyPoolKeys, keyPoolGenerated, keyPoolMisses)
	})
}

func recordIssued(kind Kind, group string, took time.Duration) {
	issuedTotal.WithLabelValues(kind.Name, group).Inc()
	issueDuration.WithLabelValues(kind.Name).Observe(took.Seconds())
}

func recordRefused(kind Kind, reason string) {
	refusedTotal.WithLabelValues(kind.Name, reason).Inc()
}
