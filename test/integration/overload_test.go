package integration

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// TestMaxInFlightLimitAnswers429: standalone mode has no cluster for priority and fairness, so
// the max-in-flight filter guards it; --max-requests-inflight sets its size. A flood of
// concurrent requests beyond it gets 429 with Retry-After, while system:masters (exempt from
// the limit, as in kube-apiserver) keeps being served. The filter runs before authorization,
// so the flooder's admitted requests are 403s: only authorized users are served in standalone
// mode. (Per-user fairness under priority and fairness is tested in test/e2e.)
func TestMaxInFlightLimitAnswers429(t *testing.T) {
	s := framework.Start(t, "", "--max-requests-inflight=1", "--max-mutating-requests-inflight=1")
	_, err := s.Client.CoreV1beta1().InternalSecrets(ns).Create(context.Background(),
		newSecret("victim", map[string]string{"a": "b"}), metav1.CreateOptions{})
	require.NoError(t, err)
	// A raw client: client-go would retry the 429s itself.
	hc, err := rest.HTTPClientFor(s.UserConfig(t, "flooder", "tenants"))
	require.NoError(t, err)
	url := s.Admin.Host + "/apis/core.gardener.cloud/v1beta1/namespaces/" + ns + "/internalsecrets"

	f := &flood{}
	deadline := time.Now().Add(20 * time.Second)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); f.run(hc, url, deadline, stop) }()
	}
	admitted, throttled, withRetryAfter, other := &f.admitted, &f.throttled, &f.withRetryAfter, &f.other
	// The admin's gets during the flood; the flood stops once they are done and it has been
	// throttled a few times.
	var adminOK, adminFailed int
	for i := 0; i < 20 || (throttled.Load() < 20 && time.Now().Before(deadline)); i++ {
		if _, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(context.Background(), "victim", metav1.GetOptions{}); err != nil {
			adminFailed++
		} else {
			adminOK++
		}
		time.Sleep(5 * time.Millisecond) // the admin's pace during the flood
	}
	close(stop)
	wg.Wait()
	t.Logf("flooder: %d admitted (403), %d throttled (429, %d with Retry-After), %d other; admin gets: %d ok, %d failed",
		admitted.Load(), throttled.Load(), withRetryAfter.Load(), other.Load(), adminOK, adminFailed)
	assert.Positive(t, throttled.Load(), "no request was throttled")
	assert.Equal(t, throttled.Load(), withRetryAfter.Load(), "every 429 carries Retry-After")
	assert.Positive(t, admitted.Load(), "the limit admits requests up to its size")
	assert.Zero(t, other.Load(), "only 403 and 429 expected")
	assert.Positive(t, adminOK)
	assert.Zero(t, adminFailed, "system:masters is exempt from the limit")
}

// flood counts the answers to GETs of a user who may not read: 403 once admitted, 429 when
// throttled.
type flood struct {
	admitted, throttled, withRetryAfter, other atomic.Int64
}

// run sends up to 2000 GETs of url until the deadline or stop.
func (f *flood) run(hc *http.Client, url string, deadline time.Time, stop <-chan struct{}) {
	for i := 0; i < 2000 && time.Now().Before(deadline); i++ {
		select {
		case <-stop:
			return
		default:
		}
		resp, err := hc.Get(url)
		if err != nil {
			f.other.Add(1)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusForbidden:
			f.admitted.Add(1)
		case http.StatusTooManyRequests:
			f.throttled.Add(1)
			if resp.Header.Get("Retry-After") != "" {
				f.withRetryAfter.Add(1)
			}
		default:
			f.other.Add(1)
		}
	}
}
