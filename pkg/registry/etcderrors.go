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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
)

// EtcdErrorStore answers writes that etcd or the encryption provider refused with a
// Kubernetes Status instead of the library's bare 500:
//   - a value the encryption provider did not encrypt (a KMS plugin down or too slow) is 503
//     with Retry-After: nothing was written, so a retry is safe;
//
// and by the gRPC code of the etcd client's error:
//   - Unavailable (etcd unreachable, a member lost mid-request, a request timeout) is 503 and
//     DeadlineExceeded is 504, both with Retry-After: the write may or may not have been
//     applied, so clients retry (a retried create then sees 409 if the first one landed);
//   - an object too large for etcd's request limit goes to the library unchanged while it
//     carries managedFields: the library then retries without them. Without managedFields
//     nothing will retry it, and the answer is 413.
type EtcdErrorStore struct {
	*genericregistry.Store
}

// Create stores obj.
func (s EtcdErrorStore) Create(ctx context.Context, obj runtime.Object, v rest.ValidateObjectFunc, o *metav1.CreateOptions) (runtime.Object, error) {
	out, err := s.Store.Create(ctx, obj, v, o)
	return out, mapEtcdError(err, obj)
}

// Update stores the update.
func (s EtcdErrorStore) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, cv rest.ValidateObjectFunc,
	uv rest.ValidateObjectUpdateFunc, force bool, o *metav1.UpdateOptions) (runtime.Object, bool, error) {
	attempted := &attemptedObject{UpdatedObjectInfo: objInfo}
	out, created, err := s.Store.Update(ctx, name, attempted, cv, uv, force, o)
	return out, created, mapEtcdError(err, attempted.obj)
}

// Delete deletes the object.
func (s EtcdErrorStore) Delete(ctx context.Context, name string, v rest.ValidateObjectFunc, o *metav1.DeleteOptions) (runtime.Object, bool, error) {
	out, deleted, err := s.Store.Delete(ctx, name, v, o)
	return out, deleted, mapEtcdError(err, nil)
}

// attemptedObject remembers the object an update last tried to store.
type attemptedObject struct {
	rest.UpdatedObjectInfo
	obj runtime.Object
}

func (a *attemptedObject) UpdatedObject(ctx context.Context, old runtime.Object) (runtime.Object, error) {
	obj, err := a.UpdatedObjectInfo.UpdatedObject(ctx, old)
	a.obj = obj
	return obj, err
}

// mapEtcdError maps err by its gRPC code; obj is what the write tried to store.
func mapEtcdError(err error, obj runtime.Object) error {
	if err == nil {
		return nil
	}
	if notEncrypted(err) {
		return retryable(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			"the encryption provider is unavailable, nothing was written; retry ("+
				strings.TrimPrefix(err.Error(), "Internal error occurred: ")+")")
	}
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		return err
	}
	switch etcdCode(err) {
	case codes.Unavailable:
		return retryable(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			"etcd is unavailable; the write may or may not have been applied, retry")
	case codes.DeadlineExceeded:
		return retryable(http.StatusGatewayTimeout, metav1.StatusReasonTimeout,
			"etcd did not answer in time; the write may or may not have been applied, retry")
	case codes.ResourceExhausted, codes.InvalidArgument:
		if tooLarge(err) && !hasManagedFields(obj) {
			return apierrors.NewRequestEntityTooLargeError(
				"the object is too large to store (etcd's request size limit); reduce the number or size of its keys and values")
		}
	}
	return err
}

// notEncrypted: the encryption provider refused the value. The library turns the storage's
// error into a 500 StatusError that keeps only the message, so the 500 is recognised by the
// text of encryption.ErrNotEncrypted, which only the encryption layer writes.
func notEncrypted(err error) bool {
	if errors.Is(err, encryption.ErrNotEncrypted) {
		return true
	}
	var st apierrors.APIStatus
	return errors.As(err, &st) && st.Status().Code == http.StatusInternalServerError &&
		strings.Contains(st.Status().Message, encryption.ErrNotEncrypted.Error())
}

func retryable(code int32, reason metav1.StatusReason, message string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: code, Reason: reason, Message: message,
		Details: &metav1.StatusDetails{RetryAfterSeconds: 1},
	}}
}

// tooLarge: etcd's request limit (InvalidArgument) or the client's message limit
// (ResourceExhausted), the two errors the library retries without managedFields.
func tooLarge(err error) bool {
	return errors.Is(err, rpctypes.ErrRequestTooLarge) || etcdCode(err) == codes.ResourceExhausted
}

func hasManagedFields(obj runtime.Object) bool {
	if obj == nil {
		return false
	}
	accessor, err := meta.Accessor(obj)
	return err == nil && len(accessor.GetManagedFields()) > 0
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
