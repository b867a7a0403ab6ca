// Package alerts runs the rules of artifacts/monitoring on a real Prometheus that scrapes two
// garden-apiserver replicas sharing an etcd, provokes what the alerts are about, and checks
// through Prometheus' HTTP API that the alerts fire and clear. Run by `make e2e`.
package alerts

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

const (
	namespace = "garden-dev"
	// Alerts take longer than Prometheus' 1 s scrape and evaluation: the client CA metrics are
	// computed at most every 15 s, re-encryption scans repeat every 5 s.
	alertTimeout = 3 * time.Minute
)

func TestAlertsOnARealPrometheus(t *testing.T) {
	e := setup(t)
	t.Run("client CA expiring", func(t *testing.T) { clientCAExpiring(t, e) })
	t.Run("KMS plugin unreachable", func(t *testing.T) { kmsUnreachable(t, e) })
	t.Run("removed key leaves objects unreadable", func(t *testing.T) { keyRemoved(t, e) })
}

// clientCAExpiring: a <shoot>.ca-client whose CA expires in 3 days fires the warning (not the
// critical one); a renewed CA clears it.
func clientCAExpiring(t *testing.T, e *env) {
	c := e.replicas[0].client(t)
	secrets := c.CoreV1beta1().InternalSecrets(namespace)
	obj := &v1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "expiring.ca-client", Namespace: namespace}, Data: caData(t, 3*24*time.Hour)}
	created, err := secrets.Create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.prom.waitFiring(t, "GardenShootClientCAExpiring", alertTimeout)
	if e.prom.firing(t, "GardenShootClientCAExpiringCritical") {
		t.Errorf("GardenShootClientCAExpiringCritical fires for a CA that expires in 3 days")
	}
	created.Data = caData(t, 365*24*time.Hour)
	if _, err := secrets.Update(context.Background(), created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.prom.waitCleared(t, "GardenShootClientCAExpiring", alertTimeout)
}

// kmsUnreachable: stopping the KMS plugin fires the alert for both replicas; starting it again
// clears it.
func kmsUnreachable(t *testing.T, e *env) {
	if e.prom.firing(t, "GardenKMSPluginUnhealthy") {
		t.Fatal("GardenKMSPluginUnhealthy fires while the plugin runs")
	}
	e.kms.Stop()
	e.prom.waitFiringOn(t, "GardenKMSPluginUnhealthy", alertTimeout, e.instances()...)
	if err := e.kms.Start(); err != nil {
		t.Fatal(err)
	}
	e.prom.waitCleared(t, "GardenKMSPluginUnhealthy", alertTimeout)
}

// keyRemoved: the replicas restart with a configuration that lost the key the InternalSecrets
// were written with; adding it back as a read key (automatic reload) lets the server rewrite
// them and clears the alert.
func keyRemoved(t *testing.T, e *env) {
	if e.prom.firing(t, "GardenEncryptionObjectsUnreadable") {
		t.Fatal("GardenEncryptionObjectsUnreadable fires before any key was removed")
	}
	c := e.replicas[0].client(t)
	for _, name := range []string{"one", "two", "three"} {
		obj := &v1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, StringData: map[string]string{"v": name}}
		if _, err := c.CoreV1beta1().InternalSecrets(namespace).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range e.replicas {
		r.stop()
	}
	e.writeConfig(t, e.keyB) // key A gone
	for _, r := range e.replicas {
		r.start(t, false) // unreadable objects keep the watch cache, hence readiness, from filling
	}
	e.prom.waitFiring(t, "GardenEncryptionObjectsUnreadable", alertTimeout)

	e.writeConfig(t, e.keyB, e.keyA) // A back as a read key
	e.prom.waitCleared(t, "GardenEncryptionObjectsUnreadable", alertTimeout)
	got, err := c.CoreV1beta1().InternalSecrets(namespace).Get(context.Background(), "two", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading an InternalSecret after the key was restored: %v", err)
	}
	if string(got.Data["v"]) != "two" {
		t.Errorf("read back %q, want %q", got.Data["v"], "two")
	}
}

func caData(t *testing.T, validity time.Duration) map[string][]byte {
	t.Helper()
	ca, err := pki.NewCA("alerts-test-client-ca", validity)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.EncodeKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"ca.crt": pki.EncodeCert(ca.Cert), "ca.key": key}
}
