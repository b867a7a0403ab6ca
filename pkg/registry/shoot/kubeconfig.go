package shoot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/audit"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/util/dryrun"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication"
	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	authvalidation "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/validation"
	"github.com/garden-apiserver/garden-apiserver/pkg/kubeconfig"
)

// KubeconfigREST serves shoots/adminkubeconfig or shoots/viewerkubeconfig: create only,
// nothing stored.
type KubeconfigREST struct {
	issuer *kubeconfig.Issuer
	kind   kubeconfig.Kind
}

var (
	_ rest.NamedCreater             = &KubeconfigREST{}
	_ rest.GroupVersionKindProvider = &KubeconfigREST{}
	_ rest.Storage                  = &KubeconfigREST{}
)

// NewAdminKubeconfigREST returns the shoots/adminkubeconfig subresource.
func NewAdminKubeconfigREST(i *kubeconfig.Issuer) *KubeconfigREST {
	return &KubeconfigREST{issuer: i, kind: kubeconfig.Admin}
}

// NewViewerKubeconfigREST returns the shoots/viewerkubeconfig subresource.
func NewViewerKubeconfigREST(i *kubeconfig.Issuer) *KubeconfigREST {
	return &KubeconfigREST{issuer: i, kind: kubeconfig.Viewer}
}

func (r *KubeconfigREST) requestKind() string {
	if r.kind == kubeconfig.Viewer {
		return "ViewerKubeconfigRequest"
	}
	return "AdminKubeconfigRequest"
}

// New returns an empty request body.
func (r *KubeconfigREST) New() runtime.Object {
	if r.kind == kubeconfig.Viewer {
		return &authentication.ViewerKubeconfigRequest{}
	}
	return &authentication.AdminKubeconfigRequest{}
}

// Destroy does nothing.
func (r *KubeconfigREST) Destroy() {}

// GroupVersionKind says the body is authentication.gardener.cloud/v1alpha1, not a Shoot.
func (r *KubeconfigREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authv1alpha1.SchemeGroupVersion.WithKind(r.requestKind())
}

// Create issues a kubeconfig for the named shoot.
func (r *KubeconfigREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	seconds, err := r.validate(ctx, name, obj, createValidation)
	if err != nil {
		kubeconfig.RecordRefused(r.kind, kubeconfig.ReasonInvalidRequest)
		return nil, err
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok || u.GetName() == "" {
		return nil, apierrors.NewBadRequest("no user in the request context")
	}
	namespace, _ := genericapirequest.NamespaceFrom(ctx)
	res, err := r.issuer.Issue(ctx, kubeconfig.Request{
		Kind: r.kind, Namespace: namespace, Shoot: name, User: u, ExpirationSeconds: seconds,
		DryRun: options != nil && dryrun.IsDryRun(options.DryRun),
	})
	if err != nil {
		return nil, err
	}
	if res.Kubeconfig == nil {
		warning.AddWarning(ctx, "", fmt.Sprintf("dry run: no kubeconfig was issued; a %s would have been granted %ds, until %s, for group %s",
			r.requestKind(), int64(res.Granted.Seconds()), res.Expiration.UTC().Format(time.RFC3339), res.Group))
		return r.withStatus(obj, res), nil
	}

	// The audit event carries the user; add what was issued (never the key).
	audit.AddAuditAnnotations(ctx,
		"kubeconfig.gardener.cloud/kind", r.requestKind(),
		"kubeconfig.gardener.cloud/shoot", namespace+"/"+name,
		"kubeconfig.gardener.cloud/group", res.Group,
		"kubeconfig.gardener.cloud/expiration", res.Expiration.UTC().Format("2006-01-02T15:04:05Z"),
		"kubeconfig.gardener.cloud/expiration-seconds", strconv.FormatInt(int64(res.Granted.Seconds()), 10),
		"kubeconfig.gardener.cloud/serial", res.Serial,
	)
	klog.V(2).InfoS("Issued shoot kubeconfig", "kind", r.requestKind(), "user", u.GetName(), "group", res.Group,
		"shoot", klog.KRef(namespace, name), "expiration", res.Expiration, "serial", res.Serial)
	return r.withStatus(obj, res), nil
}

// validate checks the body and returns the requested validity in seconds.
func (r *KubeconfigREST) validate(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc) (int64, error) {
	var seconds int64
	switch req := obj.(type) {
	case *authentication.AdminKubeconfigRequest:
		seconds = req.Spec.ExpirationSeconds
	case *authentication.ViewerKubeconfigRequest:
		seconds = req.Spec.ExpirationSeconds
	default:
		return 0, apierrors.NewBadRequest(fmt.Sprintf("expected %s, got %T", r.requestKind(), obj))
	}
	if errs := authvalidation.ValidateExpirationSeconds(seconds); len(errs) > 0 {
		return 0, apierrors.NewInvalid(authentication.Kind(r.requestKind()), name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return 0, err
		}
	}
	return seconds, nil
}

func (r *KubeconfigREST) withStatus(obj runtime.Object, res *kubeconfig.Result) runtime.Object {
	expiration := metav1.NewTime(res.Expiration)
	if out, ok := obj.(*authentication.ViewerKubeconfigRequest); ok {
		out.Status = authentication.ViewerKubeconfigRequestStatus{Kubeconfig: res.Kubeconfig, ExpirationTimestamp: expiration}
		return out
	}
	out := obj.(*authentication.AdminKubeconfigRequest)
	out.Status = authentication.AdminKubeconfigRequestStatus{Kubeconfig: res.Kubeconfig, ExpirationTimestamp: expiration}
	return out
}
