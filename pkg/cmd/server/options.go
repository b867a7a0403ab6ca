// Package server is the garden-apiserver command: its options (flags, Complete, Validate),
// the server configuration built from them, and Run.
package server

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/logs"

	gardenadmission "github.com/garden-apiserver/garden-apiserver/pkg/admission"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/etcd"
	"github.com/garden-apiserver/garden-apiserver/pkg/shootaccess"
)

// DefaultEtcdPathPrefix is Gardener's prefix, so the server can share an etcd with kube-apiserver.
const DefaultEtcdPathPrefix = "/registry-gardener"

// ServerOptions are the command-line options of garden-apiserver. Each part registers and
// validates its own flags.
type ServerOptions struct {
	Recommended *genericoptions.RecommendedOptions
	// ServerRun carries the request limits and timeouts (--max-requests-inflight,
	// --request-timeout, --shutdown-delay-duration, ...), feature gates and emulated versions,
	// as in kube-apiserver.
	ServerRun *genericoptions.ServerRunOptions

	// Admission is applied by Config with the Kubernetes clients of the mode, as kube-apiserver
	// applies it; Recommended.Admission is nil.
	Admission *genericoptions.AdmissionOptions

	Standalone   *StandaloneOptions
	ShootAccess  *shootaccess.Options
	Encryption   *encryption.Options
	ClusterCheck *ClusterCheckOptions

	Out io.Writer

	// embeddedEtcd is set by Complete when no --etcd-servers are given: Run starts etcd on the
	// socket the storage points at.
	embeddedEtcd bool
	// standalone is the state Complete prepared for standalone mode (nil otherwise).
	standalone *standaloneState
}

// NewServerOptions returns options with the defaults of a production deployment.
func NewServerOptions(out io.Writer) *ServerOptions {
	o := &ServerOptions{
		Recommended: genericoptions.NewRecommendedOptions(DefaultEtcdPathPrefix,
			apiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion)),
		ServerRun:    genericoptions.NewServerRunOptions(),
		Standalone:   NewStandaloneOptions(),
		ShootAccess:  shootaccess.NewOptions(),
		Encryption:   encryption.NewOptions(),
		ClusterCheck: &ClusterCheckOptions{Timeout: 30 * time.Second},
		Out:          out,
	}
	o.Recommended.Etcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(
		v1beta1.SchemeGroupVersion, schema.GroupKind{Group: core.GroupName})
	o.Recommended.Etcd.DefaultStorageMediaType = defaultStorageMediaType
	o.Admission, o.Recommended.Admission = o.Recommended.Admission, nil
	gardenadmission.Configure(o.Admission)
	// Complete chooses: loopback in standalone mode, every interface otherwise.
	o.Recommended.SecureServing.BindAddress = nil
	return o
}

// Flags returns the flags by group: the server's own first, then the library's in
// kube-apiserver's order.
func (o *ServerOptions) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	o.Standalone.AddFlags(fss.FlagSet("standalone"))
	o.ShootAccess.AddFlags(fss.FlagSet("shoot kubeconfigs"))
	o.Encryption.AddFlags(fss.FlagSet("encryption migration"))
	o.ClusterCheck.AddFlags(fss.FlagSet("cluster check"))

	r := o.Recommended
	o.ServerRun.AddUniversalFlags(fss.FlagSet("generic"))
	r.Etcd.AddFlags(fss.FlagSet("etcd"))
	r.SecureServing.AddFlags(fss.FlagSet("secure serving"))
	fss.FlagSet("secure serving").Lookup("bind-address").Usage = "The IP address on which to listen for the --secure-port port " +
		"(default 127.0.0.1 with --standalone, else 0.0.0.0: every interface). An unspecified address (0.0.0.0 or ::) " +
		"listens on every interface and IP address family."
	r.Audit.AddFlags(fss.FlagSet("auditing"))
	r.Features.AddFlags(fss.FlagSet("features"))
	r.Authentication.AddFlags(fss.FlagSet("authentication"))
	r.Authorization.AddFlags(fss.FlagSet("authorization"))
	r.CoreAPI.AddFlags(fss.FlagSet("core api"))
	r.EgressSelector.AddFlags(fss.FlagSet("egress selector"))
	o.Admission.AddFlags(fss.FlagSet("admission"))
	r.Traces.AddFlags(fss.FlagSet("traces"))
	// The logging flags component-base's cli.Run adds anyway, and --help, listed in --help.
	global := fss.FlagSet("global")
	logs.AddFlags(global)
	global.BoolP("help", "h", false, "help for garden-apiserver")
	return fss
}

// AddFlags registers every flag in one flag set.
func (o *ServerOptions) AddFlags(fs *pflag.FlagSet) {
	fss := o.Flags()
	for _, name := range fss.Order {
		fs.AddFlagSet(fss.FlagSet(name))
	}
}

// Complete fills in what the flags leave open; call it right after parsing them. What a mode
// implies is a default set here, before Validate: the bind address, the embedded etcd's
// endpoint and, in standalone mode, the files of the state directory the serving, client
// authentication and encryption options point at. Complete writes nothing in the state
// directory: Run creates its contents once the options are valid. (Without a serving
// certificate outside standalone mode, the library's self-signed one is made here, as
// kube-apiserver's Complete does.)
func (o *ServerOptions) Complete() error {
	// Feature gates and emulated versions take their flag values before anything reads them.
	if err := o.ServerRun.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	r := o.Recommended
	if r.SecureServing.BindAddress == nil {
		r.SecureServing.BindAddress = net.IPv4zero
		if o.Standalone.Enabled {
			r.SecureServing.BindAddress = net.IPv4(127, 0, 0, 1)
		}
	}
	if err := o.applyStorageMediaType(); err != nil {
		return err
	}
	o.embeddedEtcd = len(r.Etcd.StorageConfig.Transport.ServerList) == 0
	if o.embeddedEtcd {
		socket, err := o.etcdSocket()
		if err != nil {
			return err
		}
		r.Etcd.StorageConfig.Transport.ServerList = []string{etcd.Endpoint(socket)}
	}
	if o.Standalone.Enabled {
		o.completeStandalone()
	}
	if err := r.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil,
		[]net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}); err != nil {
		return fmt.Errorf("creating self-signed serving certificate: %w", err)
	}
	return nil
}

// etcdSocket is the embedded etcd's client socket, inside the state directory.
func (o *ServerOptions) etcdSocket() (string, error) {
	return filepath.Abs(filepath.Join(o.Standalone.StateDir, etcd.SocketFile))
}

// Validate checks every flag after Complete; nothing has been started yet.
func (o *ServerOptions) Validate() error {
	errs := o.Recommended.Validate()
	errs = append(errs, o.Admission.Validate()...)
	errs = append(errs, o.ServerRun.Validate()...)
	errs = append(errs, o.ServerRun.ComponentGlobalsRegistry.Validate()...)
	errs = append(errs, o.Standalone.Validate()...)
	errs = append(errs, o.validateStandalone()...)
	if o.embeddedEtcd {
		if socket, err := o.etcdSocket(); err != nil {
			errs = append(errs, err)
		} else if err := etcd.CheckSocketPath(socket); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := o.storageCodec(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.ShootAccess.Validate()...)
	if o.Standalone.Enabled && o.ShootAccess.ClusterCAFromCluster() {
		errs = append(errs, fmt.Errorf("--shoot-cluster-ca-sources=%s: configmap and secret are read from the cluster, which --standalone does not have",
			strings.Join(o.ShootAccess.ClusterCASources, ",")))
	}
	errs = append(errs, o.Encryption.Validate()...)
	errs = append(errs, o.ClusterCheck.Validate()...)
	return utilerrors.NewAggregate(errs)
}

// ClusterCheckOptions bound the delegated-mode start-up check of the cluster (preflight.go).
type ClusterCheckOptions struct {
	Timeout time.Duration
}

// AddFlags registers the flags.
func (o *ClusterCheckOptions) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.Timeout, "cluster-check-timeout", o.Timeout,
		"Without --standalone: how long to wait at start-up for the cluster behind --kubeconfig, --authentication-kubeconfig and --authorization-kubeconfig to answer before exiting with an error (0 skips the check).")
}

// Validate checks the flags.
func (o *ClusterCheckOptions) Validate() []error {
	if o.Timeout < 0 {
		return []error{fmt.Errorf("--cluster-check-timeout must not be negative, got %s", o.Timeout)}
	}
	return nil
}
