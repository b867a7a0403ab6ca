package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
)

// createParallel creates n InternalSecrets (1 KiB of data each) with 16 clients; it returns
// the elapsed time.
func createParallel(tb testing.TB, s *framework.Server, prefix string, n int) time.Duration {
	c := fastClient(tb, s).CoreV1beta1().InternalSecrets(ns)
	data := map[string]string{"payload": string(make([]byte, 1024))}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	start := time.Now()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if _, err := c.Create(context.Background(), newSecret(fmt.Sprintf("%s-%05d", prefix, i), data), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkReencryption measures a live server rewriting 10,000 stored InternalSecrets after a
// key rotation, without a rate limit, by the number of parallel rewrite workers. Each iteration
// puts a new key first. Run: go test ./test/integration -run '^$' -bench Reencryption -benchtime 1x
func BenchmarkReencryption(b *testing.B) {
	const n = 10000
	e := newEncEnv(b)
	keys := []string{"key0"}
	e.write(encConfig(entry([]string{secretsRes}, e.aescbc(keys...))))
	s := e.start("")
	b.Logf("created %d objects in %s", n, createParallel(b, s, "bench", n).Round(time.Millisecond))
	s.Stop()

	for _, workers := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			s := e.start("", fmt.Sprintf("--encryption-migration-workers=%d", workers), "--encryption-migration-batch-size=500")
			defer s.Stop()
			for b.Loop() {
				keys = append([]string{fmt.Sprintf("key%d", len(keys))}, keys...)
				start := time.Now()
				hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc(keys...))))
				st := waitMigrated(b, s, hash, 10*time.Minute)
				elapsed := time.Since(start)
				if got := resourceStatus(st, secretsRes).StoredWith["k8s:enc:aescbc:v1:"+keys[0]+":"]; got != n {
					b.Fatalf("%d of %d objects on the new key", got, n)
				}
				b.ReportMetric(float64(n)/elapsed.Seconds(), "objects/s")
			}
		})
	}
}

// BenchmarkCreateThroughput compares InternalSecret creates per second through a live server
// (16 clients, 1 KiB each) by provider. Run with -benchtime 1x.
func BenchmarkCreateThroughput(b *testing.B) {
	plugin, err := kmsplugin.New(filepath.Join(b.TempDir(), "kms.sock"), "kek-1", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := plugin.Start(); err != nil {
		b.Fatal(err)
	}
	defer plugin.Stop()
	const n = 3000
	for _, p := range []struct{ name, provider string }{
		{"identity", identity()}, {"aescbc", ""}, {"aesgcm", ""}, {"secretbox", ""}, {"kmsv2", kmsv2("bench", plugin.Socket)},
	} {
		b.Run(p.name, func(b *testing.B) {
			e := newEncEnv(b)
			if p.provider == "" {
				p.provider = e.keyed(p.name, "k1")
			}
			e.write(encConfig(entry([]string{secretsRes}, p.provider)))
			s := e.start("")
			defer s.Stop()
			createParallel(b, s, "warmup", 500)
			for i := 0; b.Loop(); i++ {
				b.ReportMetric(float64(n)/createParallel(b, s, fmt.Sprintf("c%d", i), n).Seconds(), "creates/s")
			}
		})
	}
}

// BenchmarkReencryptionClientLatency measures, with the default migration settings (rate
// limit, workers, batch size), how long rewriting 10,000 InternalSecrets after a key rotation
// takes and what it does to one concurrent client's get latency (p50/p99 idle vs during).
// Run: go test ./test/integration -run '^$' -bench ReencryptionClientLatency -benchtime 1x
func BenchmarkReencryptionClientLatency(b *testing.B) {
	const n = 10000
	e := newEncEnv(b)
	keys := []string{"key0"}
	e.write(encConfig(entry([]string{secretsRes}, e.aescbc(keys...))))
	// The library's defaults for the migration; only the reload interval stays short.
	s := e.start("", "--encryption-migration-rate=200", "--encryption-migration-workers=2", "--encryption-migration-batch-size=100")
	b.Logf("created %d objects in %s", n, createParallel(b, s, "lat", n).Round(time.Millisecond))
	c := fastClient(b, s).CoreV1beta1().InternalSecrets(ns)

	// getsUntil runs one client's gets over the stored objects until done is closed.
	getsUntil := func(done <-chan struct{}) []time.Duration {
		var lat []time.Duration
		for i := 0; ; i++ {
			select {
			case <-done:
				return lat
			default:
			}
			start := time.Now()
			if _, err := c.Get(context.Background(), fmt.Sprintf("lat-%05d", (i*7919)%n), metav1.GetOptions{}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	}
	for b.Loop() {
		idleDone := make(chan struct{})
		time.AfterFunc(10*time.Second, func() { close(idleDone) })
		idle := getsUntil(idleDone)

		keys = append([]string{fmt.Sprintf("key%d", len(keys))}, keys...)
		start := time.Now()
		hash := e.write(encConfig(entry([]string{secretsRes}, e.aescbc(keys...))))
		migDone := make(chan struct{})
		var during []time.Duration
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); during = getsUntil(migDone) }()
		st := waitMigrated(b, s, hash, 5*time.Minute)
		elapsed := time.Since(start)
		close(migDone)
		wg.Wait()
		if got := resourceStatus(st, secretsRes).StoredWith["k8s:enc:aescbc:v1:"+keys[0]+":"]; got != n {
			b.Fatalf("%d of %d objects on the new key", got, n)
		}
		ip50, ip99 := percentiles(idle)
		dp50, dp99 := percentiles(during)
		b.Logf("migration %s (%.0f objects/s); gets idle: %d, p50 %s, p99 %s; during: %d, p50 %s, p99 %s (p99 ratio %.2f)",
			elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), len(idle), ip50, ip99, len(during), dp50, dp99,
			float64(dp99)/float64(ip99))
		b.ReportMetric(elapsed.Seconds(), "migration-s")
		b.ReportMetric(float64(dp99)/float64(ip99), "p99-during/idle")
	}
}

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond), s[len(s)*99/100].Round(10 * time.Microsecond)
}
