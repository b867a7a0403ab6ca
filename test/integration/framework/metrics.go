package framework

import (
	"io"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/test/fixture"
)

// Get fetches path as the admin and fails the test unless it answers 200.
func (s *Server) Get(t testing.TB, path string) []byte {
	t.Helper()
	hc, err := rest.HTTPClientFor(s.Admin)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(s.Admin.Host + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d: %s", path, resp.StatusCode, b)
	}
	return b
}

// Metric sums the samples of the metric name on /metrics whose labels match every
// filter `label="value"` (0 when there is none).
func (s *Server) Metric(t testing.TB, name string, filters ...string) float64 {
	t.Helper()
	v, err := fixture.SumMetric(string(s.Get(t, "/metrics")), name, filters...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
