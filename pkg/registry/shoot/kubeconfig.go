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
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/util/dryrun"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication"
	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	"github.com/garden-apiserver/garden-apiserver/pkg/shootaccess"
)

// KubeconfigREST serves shoots/adminkubeconfig and shoots/viewerkubeconfig: create only,
// nothing stored. The two differ only in their shootaccess.Kind; the body, an
// authentication.gardener.cloud/v1alpha1 kind, is converted to the one internal KubeconfigRequest.
type KubeconfigREST struct {
	scheme *runtime.Scheme
	issuer *shootaccess.Issuer
	kind   shootaccess.Kind
	gvk    schema.GroupVersionKind
}

var (
	_ rest.NamedCreater             = &KubeconfigREST{}
	_ rest.GroupVersionKindProvider = &KubeconfigREST{}
	_ rest.Storage                  = &KubeconfigREST{}
)

// NewKubeconfigREST returns the subresource that issues kubeconfigs of the given kind. The
// scheme must know the kind's v1alpha1 body and its conversions.
func NewKubeconfigREST(scheme *runtime.Scheme, issuer *shootaccess.Issuer, kind shootaccess.Kind) (*KubeconfigREST, error) {
	gvk := authv1alpha1.SchemeGroupVersion.WithKind(kind.RequestKind)
	if _, err := scheme.New(gvk); err != nil {
		return nil, err
	}
	return &KubeconfigREST{scheme: scheme, issuer: issuer, kind: kind, gvk: gvk}, nil
}

// New returns an empty request body in its wire version, as Gardener's subresources do.
func (r *KubeconfigREST) New() runtime.Object {
	obj, _ := r.scheme.New(r.gvk) // known: checked in NewKubeconfigREST
	return obj
}

// Destroy does nothing.
func (r *KubeconfigREST) Destroy() {}

// GroupVersionKind says the body is authentication.gardener.cloud/v1alpha1, not a Shoot.
func (r *KubeconfigREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return r.gvk
}

// Create issues a kubeconfig for the named shoot.
func (r *KubeconfigREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	req := &authentication.KubeconfigRequest{}
	if err := r.scheme.Convert(obj, req, nil); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected %s, got %T", r.kind.RequestKind, obj))
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok || u.GetName() == "" {
		return nil, apierrors.NewBadRequest("no user in the request context")
	}
	namespace, _ := genericapirequest.NamespaceFrom(ctx)
	res, err := r.issuer.Issue(ctx, shootaccess.Request{
		Kind: r.kind, Namespace: namespace, Shoot: name, User: u, ExpirationSeconds: req.Spec.ExpirationSeconds,
		DryRun: options != nil && dryrun.IsDryRun(options.DryRun),
		Admit: func(ctx context.Context) error {
			if createValidation == nil {
				return nil
			}
			return createValidation(ctx, obj.DeepCopyObject())
		},
	})
	if err != nil {
		return nil, err
	}
	r.report(ctx, namespace, name, u, res)
	req.Status = authentication.KubeconfigRequestStatus{Kubeconfig: res.Kubeconfig, ExpirationTimestamp: metav1.NewTime(res.Expiration)}
	if err := r.scheme.Convert(req, obj, nil); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return obj, nil
}

// report tells a dry run's client what would have been issued, and adds what was issued (never
// the key) to the audit event, which carries the user.
func (r *KubeconfigREST) report(ctx context.Context, namespace, name string, u user.Info, res *shootaccess.Result) {
	if res.Kubeconfig == nil {
		warning.AddWarning(ctx, "", fmt.Sprintf("dry run: no kubeconfig was issued; a %s would have been granted %ds, until %s, for group %s",
			r.kind.RequestKind, int64(res.Granted.Seconds()), res.Expiration.UTC().Format(time.RFC3339), res.Group))
		return
	}
	audit.AddAuditAnnotations(ctx,
		"kubeconfig.gardener.cloud/kind", r.kind.RequestKind,
		"kubeconfig.gardener.cloud/shoot", namespace+"/"+name,
		"kubeconfig.gardener.cloud/group", res.Group,
		"kubeconfig.gardener.cloud/expiration", res.Expiration.UTC().Format("2006-01-02T15:04:05Z"),
		"kubeconfig.gardener.cloud/expiration-seconds", strconv.FormatInt(int64(res.Granted.Seconds()), 10),
		"kubeconfig.gardener.cloud/serial", res.Serial,
	)
	klog.V(2).InfoS("Issued shoot kubeconfig", "kind", r.kind.RequestKind, "user", u.GetName(), "group", res.Group,
		"shoot", klog.KRef(namespace, name), "expiration", res.Expiration, "serial", res.Serial)
}
