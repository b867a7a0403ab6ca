// Package framework starts a real garden-apiserver in-process for integration tests:
// real embedded etcd, real TLS, real authentication, real clients.
package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/pkg/cmd/server"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
)

// Server is a running garden-apiserver in standalone mode.
type Server struct {
	StateDir   string
	Kubeconfig string
	Port       int
	// Admin is a system:masters client config.
	Admin  *rest.Config
	Client versioned.Interface

	cancel context.CancelFunc
	done   chan error
	// exitErr is what Run returned after Stop, or a note that it did not return in time.
	exitErr error
}

// Start runs a standalone server on a free loopback port with its state in stateDir
// (a fresh temp dir when empty), extra flags appended. It stops when the test ends.
func Start(t testing.TB, stateDir string, extraArgs ...string) *Server {
	t.Helper()
	if stateDir == "" {
		stateDir = t.TempDir()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port

	o := server.NewServerOptions(io.Discard)
	fs := pflag.NewFlagSet("garden-apiserver", pflag.ContinueOnError)
	o.AddFlags(fs)
	// No key pool unless a test asks for one: filling it would cost every test seconds of RSA
	// key generation under -race; issuances generate their keys (of the default type) instead.
	args := append([]string{"--standalone", "--state-dir", stateDir,
		fmt.Sprintf("--secure-port=%d", port), "--shoot-kubeconfig-key-pool-size=0"}, extraArgs...)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	o.Recommended.SecureServing.Listener = l

	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{StateDir: stateDir, Port: port, Kubeconfig: filepath.Join(stateDir, server.AdminKubeconfigFile),
		cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- completeAndRun(ctx, o) }()
	t.Cleanup(s.Stop)

	if err := s.waitReady(t); err != nil {
		s.Stop()
		t.Fatalf("server did not become ready: %v", err)
	}
	// Runs before the cleanup above: a server that fails or hangs on a graceful stop fails the
	// test that started it.
	t.Cleanup(func() {
		s.Stop()
		if s.exitErr != nil {
			t.Errorf("stopping the server: %v", s.exitErr)
		}
	})
	return s
}

func (s *Server) waitReady(t testing.TB) error {
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 60*time.Second, true,
		func(ctx context.Context) (bool, error) {
			select {
			case err := <-s.done:
				s.done <- err
				return false, fmt.Errorf("server exited: %w", err)
			default:
			}
			cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
			if err != nil {
				lastErr = err
				return false, nil
			}
			hc, err := rest.HTTPClientFor(cfg)
			if err != nil {
				return false, err
			}
			resp, err := hc.Get(cfg.Host + "/readyz")
			if err != nil {
				lastErr = err
				return false, nil
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				lastErr = fmt.Errorf("/readyz: %d", resp.StatusCode)
				return false, nil
			}
			s.Admin = cfg
			s.Client, err = versioned.NewForConfig(cfg)
			return err == nil, err
		})
	if err != nil && lastErr != nil {
		return errors.Join(err, lastErr)
	}
	return err
}

// Stop shuts the server down gracefully and waits for it; safe to call twice.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case s.exitErr = <-s.done:
	case <-time.After(60 * time.Second):
		s.exitErr = errors.New("the server did not stop within 60 s of the cancellation")
	}
}

// completeAndRun does what the command does once its flags are parsed.
func completeAndRun(ctx context.Context, o *server.ServerOptions) error {
	if err := o.Complete(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	return o.Run(ctx)
}
