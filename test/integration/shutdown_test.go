package integration

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// TestGracefulShutdownKeepsAcknowledgedWrites: the server is stopped (context cancel,
// the SIGTERM path) under concurrent creates; after a restart on the same state
// directory every create the clients saw acknowledged is there.
func TestGracefulShutdownKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	s := framework.Start(t, dir)
	cfg := rest.CopyConfig(s.Admin)
	cfg.QPS, cfg.Burst, cfg.Timeout = 1000, 2000, 15*time.Second
	c, err := versioned.NewForConfig(cfg)
	require.NoError(t, err)

	const workers = 4
	l := &ackedCreates{acked: sets.New[string]()}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); l.run(c, w) }()
	}
	attempted, stopping, mu, acked := &l.attempted, &l.stopping, &l.mu, l.acked
	// Let the load run, then stop while requests are in flight.
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return acked.Len() >= 40 }, 30*time.Second, 10*time.Millisecond)
	stopping.Store(true)
	stopStart := time.Now()
	s.Stop()
	stopTook := time.Since(stopStart)
	wg.Wait()

	s2 := framework.Start(t, dir)
	list, err := s2.Client.CoreV1beta1().InternalSecrets(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	found := sets.New[string]()
	for _, i := range list.Items {
		found.Insert(i.Name)
		assert.Equal(t, i.Name, string(i.Data["k"]), "data intact")
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("writes attempted=%d acknowledged=%d found after restart=%d (acknowledged but missing=%d, stored without ack=%d); stop took %s",
		attempted.Load(), acked.Len(), found.Len(), acked.Difference(found).Len(), found.Difference(acked).Len(), stopTook.Round(time.Millisecond))
	assert.Empty(t, sets.List(acked.Difference(found)), "acknowledged creates lost")
	assert.LessOrEqual(t, found.Len()-acked.Len(), workers, "at most one unacknowledged in-flight write per worker may have committed")
	for _, f := range l.failed[:min(len(l.failed), 4)] {
		t.Logf("failed during shutdown: %s", f)
	}
}

// ackedCreates records which creates the server acknowledged.
type ackedCreates struct {
	attempted atomic.Int64
	stopping  atomic.Bool
	mu        sync.Mutex
	acked     sets.Set[string]
	failed    []string
}

// run creates InternalSecrets as worker w until a create fails after stopping was set.
func (l *ackedCreates) run(c versioned.Interface, w int) {
	for i := 0; ; i++ {
		name := fmt.Sprintf("load-%d-%05d", w, i)
		l.attempted.Add(1)
		_, err := c.CoreV1beta1().InternalSecrets(ns).Create(context.Background(),
			newSecret(name, map[string]string{"k": name}), metav1.CreateOptions{})
		l.mu.Lock()
		if err == nil {
			l.acked.Insert(name)
		} else {
			l.failed = append(l.failed, fmt.Sprintf("%s: %v", name, err))
		}
		l.mu.Unlock()
		if err != nil && l.stopping.Load() {
			return // the server is gone
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // back off before the next create
		}
	}
}
