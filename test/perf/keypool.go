package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/fixture"
)

var (
	poolSize = flag.Int("pool-size", 64, "the server's --shoot-kubeconfig-key-pool-size (phase pool)")
	burst    = flag.Int("burst", 64, "issuances in the burst from a full key pool, at 16 clients (phase pool)")
	idleFor  = flag.Duration("idle", 10*time.Second, "interval over which the idle server's CPU time is measured (phases pool, idle)")
)

const (
	metricPoolKeys      = "garden_apiserver_shoot_kubeconfig_key_pool_keys"
	metricPoolGenerated = "garden_apiserver_shoot_kubeconfig_key_pool_generated_total"
	metricPoolMisses    = "garden_apiserver_shoot_kubeconfig_key_pool_misses_total"
	metricCPU           = "process_cpu_seconds_total"
)

func serverMetric(ctx context.Context, c versioned.Interface, name string) (float64, error) {
	raw, err := c.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, err
	}
	return fixture.SumMetric(string(raw), name)
}

// waitPoolFull polls until the pool holds -pool-size keys and returns how long that took.
func waitPoolFull(ctx context.Context, c versioned.Interface) (time.Duration, error) {
	start := time.Now()
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		n, err := serverMetric(ctx, c, metricPoolKeys)
		return n >= float64(*poolSize), err
	})
	return time.Since(start), err
}

// idleCPU is the server's CPU time per second of wall time over -idle with no requests but the
// two metric reads, and the keys generated meanwhile.
func idleCPU(ctx context.Context, c versioned.Interface) (cpuMsPerS, generated float64, err error) {
	cpu0, err := serverMetric(ctx, c, metricCPU)
	if err != nil {
		return 0, 0, err
	}
	gen0, err := serverMetric(ctx, c, metricPoolGenerated)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-time.After(*idleFor): // the measurement itself: an interval without load
	}
	cpu1, err := serverMetric(ctx, c, metricCPU)
	if err != nil {
		return 0, 0, err
	}
	gen1, err := serverMetric(ctx, c, metricPoolGenerated)
	return (cpu1 - cpu0) * 1000 / time.Since(start).Seconds(), gen1 - gen0, err
}

// burstIssue issues n admin kubeconfigs at 16 clients and returns their latencies.
func burstIssue(ctx context.Context, c versioned.Interface, ns, name string, n int) result {
	shoots := c.CoreV1beta1().Shoots(ns)
	todo := make(chan struct{}, n)
	for range n {
		todo <- struct{}{}
	}
	close(todo)
	r := result{op: fmt.Sprintf("adminkubeconfig burst of %d from a full pool (%s)", n, *keyLabel), clients: 16}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range r.clients {
		wg.Go(func() {
			for range todo {
				t0 := time.Now()
				res, err := shoots.CreateAdminKubeconfigRequest(ctx, name, &authv1alpha1.AdminKubeconfigRequest{}, metav1.CreateOptions{})
				if err == nil && len(res.Status.Kubeconfig) == 0 {
					err = errors.New("empty kubeconfig")
				}
				mu.Lock()
				if err != nil {
					r.errors++
				} else {
					r.lat = append(r.lat, time.Since(t0))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

// keyPool measures the key pool: idle CPU once full, a burst from the full pool, the sustained
// rate once it is empty, and the refill rate without load. It prints two Markdown tables.
func keyPool(ctx context.Context, c versioned.Interface, ns, name string) error {
	if _, err := waitPoolFull(ctx, c); err != nil {
		return fmt.Errorf("waiting for a full key pool: %w", err)
	}
	idle, idleGen, err := idleCPU(ctx, c)
	if err != nil {
		return err
	}
	misses0, _ := serverMetric(ctx, c, metricPoolMisses)
	b := burstIssue(ctx, c, ns, name, *burst)
	misses1, _ := serverMetric(ctx, c, metricPoolMisses)
	gen1, _ := serverMetric(ctx, c, metricPoolGenerated)
	sustained := issue(ctx, c, ns, name, 16)
	sustained.op = "adminkubeconfig sustained, pool drained (" + *keyLabel + ")"
	misses2, _ := serverMetric(ctx, c, metricPoolMisses)
	gen2, _ := serverMetric(ctx, c, metricPoolGenerated)
	keys0, _ := serverMetric(ctx, c, metricPoolKeys)
	gen3, _ := serverMetric(ctx, c, metricPoolGenerated)
	refill, err := waitPoolFull(ctx, c)
	if err != nil {
		return err
	}
	gen4, _ := serverMetric(ctx, c, metricPoolGenerated)
	printTable([]result{b, sustained})
	fmt.Println()
	fmt.Printf("| key pool (%s, size %d) | measured |\n|---|---|\n", *keyLabel, *poolSize)
	fmt.Printf("| server CPU while idle with the pool full | %.1f ms/s over %s; keys generated meanwhile: %.0f |\n", idle, *idleFor, idleGen)
	fmt.Printf("| burst of %d at 16 clients | %d served, %.0f keys generated by requests (pool empty) |\n", *burst, len(b.lat), misses1-misses0)
	fmt.Printf("| sustained for %s at 16 clients | %.1f/s; keys: %.0f from the refill workers (%.1f/s), %.0f generated by requests |\n",
		*duration, float64(len(sustained.lat))/sustained.elapsed.Seconds(), gen2-gen1, (gen2-gen1)/sustained.elapsed.Seconds(), misses2-misses1)
	fmt.Printf("| refill without load | %.0f keys in %s: %.1f keys/s (from %.0f keys to full) |\n",
		gen4-gen3, refill.Round(time.Millisecond), (gen4-gen3)/refill.Seconds(), keys0)
	return nil
}

// idlePhase prints the server's CPU time while idle (for a server without a key pool).
func idlePhase(ctx context.Context, c versioned.Interface) error {
	idle, _, err := idleCPU(ctx, c)
	if err != nil {
		return err
	}
	fmt.Printf("| server CPU while idle (%s) | %.1f ms/s over %s |\n", *keyLabel, idle, *idleFor)
	return nil
}
