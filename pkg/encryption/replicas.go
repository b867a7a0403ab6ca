package encryption

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
	"k8s.io/klog/v2"
)

// sessionTTL bounds how long a crashed replica keeps the migration lock.
const sessionTTL = 15

func (c *Controller) keyBase() string {
	return path.Join("/", c.etcdPrefix, "garden-apiserver", "encryption")
}

// client returns the controller's own etcd client (the store's is not exposed).
func (c *Controller) client() (*clientv3.Client, error) {
	if c.cli != nil {
		return c.cli, nil
	}
	cfg := clientv3.Config{Endpoints: c.transport.ServerList, DialTimeout: 20 * time.Second, Logger: zap.NewNop()}
	if c.transport.CertFile != "" || c.transport.KeyFile != "" || c.transport.TrustedCAFile != "" {
		tlsCfg, err := (transport.TLSInfo{CertFile: c.transport.CertFile, KeyFile: c.transport.KeyFile,
			TrustedCAFile: c.transport.TrustedCAFile}).ClientConfig()
		if err != nil {
			return nil, err
		}
		cfg.TLS = tlsCfg
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, err
	}
	c.cli = cli
	return cli, nil
}

// sessionFor returns a live lease-backed session; replica records and the lock die with it.
func (c *Controller) sessionFor() (*concurrency.Session, error) {
	if c.session != nil {
		select {
		case <-c.session.Done():
			c.session, c.published = nil, ""
		default:
			return c.session, nil
		}
	}
	cli, err := c.client()
	if err != nil {
		return nil, err
	}
	// Not bound to ctx: Close must still be able to revoke the lease during shutdown.
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(sessionTTL))
	if err != nil {
		return nil, err
	}
	c.session = s
	return s, nil
}

// tryLead takes the migration lock without waiting. The returned context ends when the lock's
// lease is lost. Rewrites are safe even if two replicas overlap; the lock avoids double work.
func (c *Controller) tryLead(ctx context.Context) (context.Context, func(), bool) {
	s, err := c.sessionFor()
	if err != nil {
		klog.ErrorS(err, "Cannot reach etcd for the encryption migration lock")
		return nil, nil, false
	}
	m := concurrency.NewMutex(s, path.Join(c.keyBase(), "migration-lock"))
	if err := m.TryLock(ctx); err != nil {
		if !errors.Is(err, concurrency.ErrLocked) {
			klog.ErrorS(err, "Taking the encryption migration lock failed")
		}
		return nil, nil, false
	}
	lctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	return lctx, func() {
		cancel()
		uctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = m.Unlock(uctx)
	}, true
}

// syncReplicas publishes this replica's configuration and reads everyone's; it reports whether
// all live replicas have the same file content in effect.
func (c *Controller) syncReplicas(ctx context.Context) bool {
	agree, replicas := c.replicas(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.ReplicasAgree, c.status.Replicas = agree, replicas
	return agree
}

func (c *Controller) replicas(ctx context.Context) (bool, []ReplicaStatus) {
	s, err := c.sessionFor()
	if err != nil {
		return false, nil
	}
	me := ReplicaStatus{Replica: c.replicaID, ConfigLoaded: c.loaded}
	if c.shadow != nil {
		me.ConfigHash = c.shadow.hash
	}
	b, _ := json.Marshal(me)
	base := c.keyBase() + "/replicas/"
	if string(b) != c.published {
		if _, err := c.cli.Put(ctx, base+c.replicaID, string(b), clientv3.WithLease(s.Lease())); err != nil {
			return false, nil
		}
		c.published = string(b)
	}
	resp, err := c.cli.Get(ctx, base, clientv3.WithPrefix())
	if err != nil {
		return false, nil
	}
	agree := true
	var all []ReplicaStatus
	for _, kv := range resp.Kvs {
		var r ReplicaStatus
		if json.Unmarshal(kv.Value, &r) != nil {
			continue
		}
		all = append(all, r)
		agree = agree && r.ConfigLoaded && r.ConfigHash == me.ConfigHash
	}
	return agree, all
}
