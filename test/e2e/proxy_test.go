package e2e

import (
	"io"
	"net"
	"sync"
	"time"
)

// failoverProxy forwards TCP connections on a loopback port to the first of its backends that
// accepts a connection (see the package documentation).
type failoverProxy struct {
	ln       net.Listener
	backends []string

	mu    sync.Mutex
	conns map[string]int // connections forwarded, by backend
}

func startFailoverProxy(backends ...string) (*failoverProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &failoverProxy{ln: ln, backends: backends, conns: map[string]int{}}
	go p.serve()
	return p, nil
}

func (p *failoverProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *failoverProxy) close() { _ = p.ln.Close() }

// forwarded returns how many connections went to backend.
func (p *failoverProxy) forwarded(backend string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[backend]
}

func (p *failoverProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c.(*net.TCPConn))
	}
}

func (p *failoverProxy) handle(client *net.TCPConn) {
	for _, b := range p.backends {
		conn, err := net.DialTimeout("tcp", b, time.Second)
		if err != nil {
			continue
		}
		backend := conn.(*net.TCPConn)
		p.mu.Lock()
		p.conns[b]++
		p.mu.Unlock()
		var wg sync.WaitGroup
		wg.Add(2)
		pipe := func(dst, src *net.TCPConn) {
			defer wg.Done()
			_, _ = io.Copy(dst, src)
			_ = dst.CloseWrite()
		}
		go pipe(backend, client)
		go pipe(client, backend)
		wg.Wait()
		_ = backend.Close()
		_ = client.Close()
		return
	}
	_ = client.Close()
}
