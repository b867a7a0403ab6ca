package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/shootaccess"
)

// The ConfigMap kube-apiserver publishes for aggregated API servers (client CA, front-proxy CA
// and header names).
const (
	authConfigMapNamespace = "kube-system"
	authConfigMapName      = "extension-apiserver-authentication"
)

// clusterKubeconfig is one of the three connections a delegated server makes to the cluster.
type clusterKubeconfig struct {
	flag   string // the flag naming the file
	path   string // empty: in-cluster config
	config *rest.Config
	client kubernetes.Interface
}

func (k *clusterKubeconfig) describe() string {
	if k.path == "" {
		return fmt.Sprintf("the in-cluster service account (no %s given)", k.flag)
	}
	return fmt.Sprintf("%s=%s", k.flag, k.path)
}

// checkCluster is the delegated-mode pre-flight: before anything is served, every kubeconfig
// the server uses must reach the cluster, and its identity must be allowed what the server
// needs at start-up (read the extension-apiserver-authentication ConfigMap, create
// TokenReviews and SubjectAccessReviews). Unreachable clusters are retried until timeout;
// denials fail at once. A server that cannot do these would otherwise serve half-configured:
// rejecting every request, or waiting forever for caches that never sync.
func (o *ServerOptions) checkCluster(ctx context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		klog.Warning("Skipping the start-up check of the cluster connection (--cluster-check-timeout=0)")
		return nil
	}
	core, authn, authz, err := o.clusterKubeconfigs()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := reachCluster(ctx, timeout, core, authn, authz); err != nil {
		return err
	}
	if err := o.checkPermissions(ctx, authn, authz); err != nil {
		return err
	}
	if err := o.checkClusterCASources(ctx, core); err != nil {
		return err
	}
	klog.InfoS("The cluster is reachable and grants what garden-apiserver needs at start-up", "host", firstHost(core, authn, authz))
	return nil
}

// reachCluster waits until every kubeconfig reaches the cluster's /version.
func reachCluster(ctx context.Context, timeout time.Duration, ks ...*clusterKubeconfig) error {
	for _, k := range ks {
		if k == nil {
			continue
		}
		if err := retryUnavailable(ctx, func(ctx context.Context) error {
			_, err := k.client.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
			return err
		}); err != nil {
			return fmt.Errorf("cannot reach the Kubernetes cluster at %s with %s within %s: %w; "+
				"garden-apiserver does not start without its cluster (use --standalone to run without one)",
				k.config.Host, k.describe(), timeout, err)
		}
	}
	return nil
}

// checkPermissions checks what the server's identities need at start-up.
func (o *ServerOptions) checkPermissions(ctx context.Context, authn, authz *clusterKubeconfig) error {
	r := o.Recommended
	if authn != nil && (r.Authentication.ClientCert.ClientCA == "" || r.Authentication.RequestHeader.ClientCAFile == "") {
		if err := retryUnavailable(ctx, func(ctx context.Context) error {
			_, err := authn.client.CoreV1().ConfigMaps(authConfigMapNamespace).Get(ctx, authConfigMapName, metav1.GetOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("reading ConfigMap %s/%s with %s: %w; grant it with a RoleBinding to Role "+
				"extension-apiserver-authentication-reader in %s", authConfigMapNamespace, authConfigMapName,
				authn.describe(), err, authConfigMapNamespace)
		}
	}
	if authn != nil {
		review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "garden-apiserver-start-up-check"}}
		if err := retryUnavailable(ctx, func(ctx context.Context) error {
			_, err := authn.client.AuthenticationV1().TokenReviews().Create(ctx, review, metav1.CreateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("creating a TokenReview with %s: %w; grant it with a ClusterRoleBinding to ClusterRole system:auth-delegator",
				authn.describe(), err)
		}
	}
	if authz != nil {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               "garden-apiserver-start-up-check",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Group: "core.gardener.cloud", Resource: "shoots"},
		}}
		if err := retryUnavailable(ctx, func(ctx context.Context) error {
			_, err := authz.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("creating a SubjectAccessReview with %s: %w; grant it with a ClusterRoleBinding to ClusterRole system:auth-delegator",
				authz.describe(), err)
		}
	}
	return nil
}

// checkClusterCASources: the cluster CA sources read from the cluster need get on their
// resource in every namespace; without it every issuance would fail. A source that is off is
// not checked (nor granted in artifacts/deploy).
func (o *ServerOptions) checkClusterCASources(ctx context.Context, core *clusterKubeconfig) error {
	if core == nil {
		return nil
	}
	for _, c := range []struct {
		src      shootaccess.ClusterCASource
		resource string
	}{{shootaccess.SourceConfigMap, "configmaps"}, {shootaccess.SourceSecret, "secrets"}} {
		if !o.ShootAccess.ClusterCASourceOn(c.src) {
			continue
		}
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: c.resource},
		}}
		var allowed bool
		if err := retryUnavailable(ctx, func(ctx context.Context) error {
			res, err := core.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			if err == nil {
				allowed = res.Status.Allowed
			}
			return err
		}); err != nil {
			return fmt.Errorf("checking whether %s may get %s: %w", core.describe(), c.resource, err)
		}
		if !allowed {
			return fmt.Errorf("--shoot-cluster-ca-sources includes %s, but %s may not get %s in all namespaces: grant it "+
				"(artifacts/cluster-ca-sources) or drop the source", c.src, core.describe(), c.resource)
		}
	}
	return nil
}

// clusterKubeconfigs loads the kubeconfigs the server uses (nil where none is used).
func (o *ServerOptions) clusterKubeconfigs() (core, authn, authz *clusterKubeconfig, err error) {
	r := o.Recommended
	if r.CoreAPI != nil {
		if core, err = loadClusterKubeconfig("--kubeconfig", r.CoreAPI.CoreAPIKubeconfigPath); err != nil {
			return nil, nil, nil, err
		}
	}
	if r.Authentication != nil && !r.Authentication.SkipInClusterLookup {
		if authn, err = loadClusterKubeconfig("--authentication-kubeconfig", r.Authentication.RemoteKubeConfigFile); err != nil {
			return nil, nil, nil, err
		}
	}
	if r.Authorization != nil {
		if authz, err = loadClusterKubeconfig("--authorization-kubeconfig", r.Authorization.RemoteKubeConfigFile); err != nil {
			return nil, nil, nil, err
		}
	}
	return core, authn, authz, nil
}

func loadClusterKubeconfig(flag, path string) (*clusterKubeconfig, error) {
	k := &clusterKubeconfig{flag: flag, path: path}
	var err error
	if path == "" {
		if k.config, err = rest.InClusterConfig(); err != nil {
			return nil, fmt.Errorf("no %s given and not running in a cluster (%w); pass %s, or --standalone to run without a cluster",
				flag, err, flag)
		}
	} else {
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
		if k.config, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig(); err != nil {
			return nil, fmt.Errorf("loading %s=%s: %w", flag, path, err)
		}
	}
	k.config = rest.CopyConfig(k.config)
	// One attempt must not eat the whole budget: an unroutable address otherwise hangs for the
	// dialer's 30 s.
	k.config.Timeout = 5 * time.Second
	if k.client, err = kubernetes.NewForConfig(k.config); err != nil {
		return nil, fmt.Errorf("%s: %w", k.describe(), err)
	}
	return k, nil
}

// retryUnavailable calls f until it succeeds, fails with a definite answer (a 4xx other than
// 429), or ctx ends; it returns the last error.
func retryUnavailable(ctx context.Context, f func(context.Context) error) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		last = f(ctx)
		if last == nil {
			return true, nil
		}
		var status apierrors.APIStatus
		if errors.As(last, &status) {
			code := status.Status().Code
			if code >= http.StatusBadRequest && code < http.StatusInternalServerError && code != http.StatusTooManyRequests {
				return false, last
			}
		}
		klog.V(2).InfoS("Cluster not ready yet, retrying", "err", last)
		return false, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}

func firstHost(ks ...*clusterKubeconfig) string {
	for _, k := range ks {
		if k != nil {
			return k.config.Host
		}
	}
	return ""
}
