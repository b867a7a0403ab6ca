package encryption

import (
	"sync"

	encryptionconfigmetrics "k8s.io/apiserver/pkg/server/options/encryptionconfig/metrics"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

const subsystem = "garden_apiserver_encryption"

var (
	migratedTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      subsystem,
		Name:           "migration_objects_migrated_total",
		Help:           "Objects rewritten by this replica to match the encryption configuration.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource"})
	remainingGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "migration_objects_remaining",
		Help:           "Stored objects that do not yet match the encryption configuration (stale or unreadable), as of the last scan.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource"})
	errorsTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      subsystem,
		Name:           "migration_errors_total",
		Help:           "Failed rewrites and unreadable objects met by the re-encryption controller.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource"})
	completeGauge = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "migration_complete",
		Help:           "1 when every stored object matches the encryption configuration file on disk (old keys can be removed), else 0.",
		StabilityLevel: metrics.ALPHA,
	})
	configLoadedGauge = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "config_loaded",
		Help:           "1 when the encryption configuration file on disk is the one the server encrypts with, 0 while a change is pending or the file is broken.",
		StabilityLevel: metrics.ALPHA,
	})
	configErrorsTotal = metrics.NewCounter(&metrics.CounterOpts{
		Subsystem:      subsystem,
		Name:           "config_load_errors_total",
		Help:           "Failed attempts to load a changed encryption configuration file; the previous configuration stays in effect.",
		StabilityLevel: metrics.ALPHA,
	})
	registerOnce sync.Once
)

func registerMetrics() {
	registerOnce.Do(func() {
		// The library's reload metrics, recorded by the keyring as the library's reload does.
		encryptionconfigmetrics.RegisterMetrics()
		legacyregistry.MustRegister(migratedTotal, remainingGauge, errorsTotal, completeGauge, configLoadedGauge, configErrorsTotal)
		registerAlertMetrics()
	})
}

func reloadSucceeded(apiServerID, hash string) {
	encryptionconfigmetrics.RecordEncryptionConfigAutomaticReloadSuccess(apiServerID, hash)
}

func reloadFailed(apiServerID string) {
	encryptionconfigmetrics.RecordEncryptionConfigAutomaticReloadFailure(apiServerID)
}

func recordConfigInfo(apiServerID, hash string) {
	encryptionconfigmetrics.RecordEncryptionConfigLastConfigInfo(apiServerID, hash)
}
