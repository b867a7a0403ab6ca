// Package kmsplugin is a small KMS v2 plugin for tests and local use, built on k8s.io/kms: it
// wraps the API server's DEKs with AES-256-GCM under keys held in memory and serves the KMS v2
// gRPC API on a unix socket. Not for production: the keys live in the plugin process.
package kmsplugin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"
	kmsapi "k8s.io/kms/apis/v2"
	"k8s.io/kms/pkg/service"
)

// Plugin is a running (or stopped) plugin. Its keys survive Stop and Start.
type Plugin struct {
	Socket string

	mu      sync.Mutex
	keys    map[string]cipher.AEAD
	current string
	server  *grpc.Server
}

// New returns a plugin with one key, keyID, from key (32 bytes; random when nil).
func New(socket, keyID string, key []byte) (*Plugin, error) {
	p := &Plugin{Socket: socket, keys: map[string]cipher.AEAD{}}
	return p, p.AddKey(keyID, key)
}

// AddKey adds a key and makes it the current one (reported by Status, used by Encrypt); older
// keys still decrypt.
func (p *Plugin) AddKey(keyID string, key []byte) error {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[keyID], p.current = aead, keyID
	return nil
}

// Start serves on the socket until Stop.
func (p *Plugin) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.server != nil {
		return errors.New("kms plugin already running")
	}
	if err := os.Remove(p.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	l, err := net.Listen("unix", p.Socket)
	if err != nil {
		return err
	}
	p.server = grpc.NewServer()
	kmsapi.RegisterKeyManagementServiceServer(p.server, service.NewGRPCService(p.Socket, 10*time.Second, p))
	go func(s *grpc.Server) { _ = s.Serve(l) }(p.server)
	return nil
}

// Stop closes all connections at once, as a crashed plugin would.
func (p *Plugin) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.server != nil {
		p.server.Stop()
		p.server = nil
	}
}

var _ service.Service = (*Plugin)(nil)

// Encrypt seals a DEK with the current key: nonce || ciphertext.
func (p *Plugin) Encrypt(_ context.Context, _ string, data []byte) (*service.EncryptResponse, error) {
	p.mu.Lock()
	aead, id := p.keys[p.current], p.current
	p.mu.Unlock()
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &service.EncryptResponse{Ciphertext: aead.Seal(nonce, nonce, data, []byte(id)), KeyID: id}, nil
}

// Decrypt opens a DEK sealed under any key this plugin has.
func (p *Plugin) Decrypt(_ context.Context, _ string, req *service.DecryptRequest) ([]byte, error) {
	p.mu.Lock()
	aead := p.keys[req.KeyID]
	p.mu.Unlock()
	if aead == nil {
		return nil, fmt.Errorf("unknown key ID %q", req.KeyID)
	}
	n := aead.NonceSize()
	if len(req.Ciphertext) < n {
		return nil, errors.New("ciphertext too short")
	}
	return aead.Open(nil, req.Ciphertext[:n], req.Ciphertext[n:], []byte(req.KeyID))
}

// Status reports healthy and the current key ID.
func (p *Plugin) Status(context.Context) (*service.StatusResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &service.StatusResponse{Version: "v2", Healthz: "ok", KeyID: p.current}, nil
}
