package framework

import (
	"bytes"
	"flag"
	"strconv"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"k8s.io/klog/v2"
)

// LogBuffer holds captured log lines; safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// CaptureKlog sends klog output up to verbosity v to a buffer for the rest of the test.
// klog is process-global: tests that capture must not run in parallel.
func CaptureKlog(t testing.TB, v int) *LogBuffer {
	t.Helper()
	var flags flag.FlagSet
	klog.InitFlags(&flags)
	if err := flags.Set("v", strconv.Itoa(v)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flags.Set("v", "0") })
	buf := &LogBuffer{}
	klog.SetLogger(funcr.New(func(prefix, args string) {
		buf.mu.Lock()
		defer buf.mu.Unlock()
		buf.b.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: v}))
	t.Cleanup(klog.ClearLogger)
	return buf
}
