package registry

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
)

// EtcdErrorStore answers writes that etcd refused with a Kubernetes Status instead of a bare
// 500, which the library gives for any error that is not one:
//   - an object too large for etcd's request limit is 413: validation bounds the data, but
//     many small keys still grow the stored object (its managed fields list every key);
//   - etcd unreachable (a member lost mid-request) is 503, and a request timeout 504, both
//     with Retry-After: the write may or may not have been applied, so clients retry
//     (a retried create then sees 409 if the first one landed).
type EtcdErrorStore struct {
	*genericregistry.Store
}

// Create stores obj.
func (s EtcdErrorStore) Create(ctx context.Context, obj runtime.Object, v rest.ValidateObjectFunc, o *metav1.CreateOptions) (runtime.Object, error) {
	out, err := s.Store.Create(ctx, obj, v, o)
	return out, mapEtcdError(err)
}

// Update stores the update.
func (s EtcdErrorStore) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, cv rest.ValidateObjectFunc,
	uv rest.ValidateObjectUpdateFunc, force bool, o *metav1.UpdateOptions) (runtime.Object, bool, error) {
	out, created, err := s.Store.Update(ctx, name, objInfo, cv, uv, force, o)
	return out, created, mapEtcdError(err)
}

// Delete deletes the object.
func (s EtcdErrorStore) Delete(ctx context.Context, name string, v rest.ValidateObjectFunc, o *metav1.DeleteOptions) (runtime.Object, bool, error) {
	out, deleted, err := s.Store.Delete(ctx, name, v, o)
	return out, deleted, mapEtcdError(err)
}

func mapEtcdError(err error) error {
	if err == nil {
		return nil
	}
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		return err
	}
	if errors.Is(err, rpctypes.ErrRequestTooLarge) || strings.Contains(err.Error(), rpctypes.ErrRequestTooLarge.Error()) {
		return apierrors.NewRequestEntityTooLargeError(
			"the object is too large to store (etcd's request size limit); reduce the number or size of its keys and values")
	}
	switch etcdCode(err) {
	case codes.DeadlineExceeded:
		return apierrors.NewTimeoutError("etcd did not answer in time; the write may or may not have been applied", 1)
	case codes.Unavailable:
		if strings.Contains(err.Error(), "timed out") {
			return apierrors.NewTimeoutError("etcd did not answer in time; the write may or may not have been applied", 1)
		}
		return &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusServiceUnavailable, Reason: metav1.StatusReasonServiceUnavailable,
			Message: "etcd is unavailable; the write may or may not have been applied, retry",
			Details: &metav1.StatusDetails{RetryAfterSeconds: 1},
		}}
	}
	return err
}

// etcdCode is the gRPC code of an etcd client error (codes.OK when it is none).
func etcdCode(err error) codes.Code {
	var etcdErr rpctypes.EtcdError
	if errors.As(err, &etcdErr) {
		return etcdErr.Code()
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return codes.OK
}
