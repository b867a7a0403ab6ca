package encryption

import (
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/apiserver/pkg/storage/storagebackend"
)

// etcdClient is the controller's own etcd connection (the store's is not exposed), made on
// first use and shared by the scans and the replica records.
type etcdClient struct {
	transport storagebackend.TransportConfig
	cli       *clientv3.Client
}

func (e *etcdClient) get() (*clientv3.Client, error) {
	if e.cli != nil {
		return e.cli, nil
	}
	cfg := clientv3.Config{Endpoints: e.transport.ServerList, DialTimeout: 20 * time.Second, Logger: zap.NewNop()}
	if e.transport.CertFile != "" || e.transport.KeyFile != "" || e.transport.TrustedCAFile != "" {
		tlsCfg, err := (transport.TLSInfo{CertFile: e.transport.CertFile, KeyFile: e.transport.KeyFile,
			TrustedCAFile: e.transport.TrustedCAFile}).ClientConfig()
		if err != nil {
			return nil, err
		}
		cfg.TLS = tlsCfg
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, err
	}
	e.cli = cli
	return cli, nil
}

func (e *etcdClient) close() {
	if e.cli != nil {
		_ = e.cli.Close()
	}
}
